using System.Globalization;
using System.Text;
using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// A fact's content in 16 hex digits (64-bit FNV-1a of its members), kept with its id's claim, so that a
/// resend of the id with other content (another customer, case, value, period or type on the same day)
/// is told from the same fact sent again: the contract counts both as duplicates, and only the same fact
/// may be applied again downstream (found by probing: a resend naming another customer took a real
/// acquisition's place in the timelines). Time counts as its instant and numbers as their values, so
/// <c>+03:30</c> against <c>Z</c>, or 100 against 100.0, is the same content; an amount counts as sent, in its currency.
/// </summary>
public static class FactFingerprint
{
    public static string Of(Fact fact)
    {
        var text = new StringBuilder(256);
        void Add(string? value)
        {
            // Length-prefixed, so no two different member lists read alike.
            if (value is null) text.Append('-');
            else text.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value);
        }
        Add(((int)fact.Type).ToString(CultureInfo.InvariantCulture));
        Add(fact.Time.UtcTicks.ToString(CultureInfo.InvariantCulture));
        Add(fact.CustomerId);
        Add(fact.StaffId);
        Add(fact.Channel);
        Add(fact.Segment);
        Add(fact.Region);
        Add(fact.Reason);
        Add(fact.Direction);
        Add(fact.FirstContactResolution?.ToString());
        Add(Number(fact.HandleSeconds));
        // The amount as sent: the reporting currency's amount moves with the configured rates (found in review).
        Add(Number(fact.OriginalAmount ?? fact.Amount));
        Add(fact.Currency);
        Add(fact.Metric);
        Add(fact.Score?.ToString(CultureInfo.InvariantCulture));
        Add(fact.CaseId);
        Add(fact.Severity);
        Add(Number(fact.SlaHours));
        Add(fact.DealId);
        Add(fact.Outcome);
        Add(fact.Competitor);
        Add(fact.Indicator);
        Add(Number(fact.Value));
        Add(fact.PeriodKey);

        var hash = 14695981039346656037UL;
        foreach (var c in text.ToString())
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static string? Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The value without trailing zeros (100.0 → 100).</summary>
    private static string? Number(decimal? value) => value is { } d ? (d / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : null;
}
