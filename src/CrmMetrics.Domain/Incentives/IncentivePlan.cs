using System.Text.Json;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Incentives;

public sealed record Participant(string StaffId, decimal Quota);

/// <summary>A marginal tier: <see cref="Rate"/> × the part of the measure between From% and To% of the quota (no To: above From%).</summary>
public sealed record Tier(decimal From, decimal? To, decimal Rate);

/// <summary>A gate: if the staff member's indicator is below Min (or has no value), the payout is multiplied by Factor.</summary>
public sealed record Gate(string Indicator, decimal Min, decimal Factor);

/// <summary>An incentive plan (contract/api.md): who is covered, with what quota, paid by which tiers, capped and gated.</summary>
public sealed record IncentivePlan
{
    public required string PlanId { get; init; }
    public required string Name { get; init; }
    public required Grain Grain { get; init; }
    public string MeasureIndicator { get; init; } = "com.revenue";
    public required IReadOnlyList<Participant> Participants { get; init; }
    public required IReadOnlyList<Tier> Tiers { get; init; }
    public decimal? Cap { get; init; }
    public IReadOnlyList<Gate> Gates { get; init; } = [];

    /// <summary>The largest quota or cap: the largest amount a fact may carry (far above any real one).</summary>
    public const decimal MaxAmount = (decimal)Facts.FactValidator.MaxMagnitude;

    /// <summary>Every member a plan's body and its parts may carry (GET shows the same).</summary>
    private static readonly string[] Members = ["planId", "name", "grain", "measure", "participants", "tiers", "cap", "gates"];
    private static readonly string[] MeasureMembers = ["indicator"];
    private static readonly string[] ParticipantMembers = ["staffId", "quota"];
    private static readonly string[] TierMembers = ["from", "to", "rate"];
    private static readonly string[] GateMembers = ["indicator", "min", "factor"];

    /// <summary>The largest tier bound, in percent of quota (10,000 times the quota).</summary>
    public const decimal MaxTierPercent = 1_000_000;

    /// <summary>Reads a plan on catalog indicators from a PUT body; every problem names its field (e.g. <c>tiers[1].from</c>).</summary>
    public static IncentivePlan? Read(string planId, JsonElement body, ValidationErrors errors) => Read(planId, body, IndicatorResolver.Catalog, errors);

    /// <summary>Reads a plan from a PUT body; its measure and gates may be base or derived indicators (<paramref name="indicators"/>).</summary>
    public static IncentivePlan? Read(string planId, JsonElement body, IndicatorResolver indicators, ValidationErrors errors)
    {
        if (!Vocabulary.IsKey(planId)) errors.Add("planId", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var f = new JsonFields(body, errors);
        f.SameAsAddress("planId", planId);
        var name = f.DisplayName("name", true);
        var grainText = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
        Grains.TryParse(grainText, out var grain);
        var measure = "com.revenue";
        if (f.Has("measure"))
        {
            var m = f.Object("measure", false);
            measure = m.String("indicator", false, s =>
                !indicators.IsPerScope(s) ? $"'{JsonFields.Truncate(s)}' is not a base or derived indicator (the measure is read per staff member)"
                // Tiers pay for the part of the measure above each share of the quota: more must be better, or slower complaint handling would pay more.
                : indicators.Find(s)?.Direction == Direction.Lower ? $"'{JsonFields.Truncate(s)}' is better when lower; tiers pay for the measure above shares of the quota, so the measure must be one that is better when higher"
                : null) ?? measure;
            m.RefuseMisspelt(MeasureMembers, "a plan's measure");
        }

        var participants = new List<Participant>();
        foreach (var (item, path) in f.Objects("participants", required: true, out _))
        {
            var p = new JsonFields(item, errors, path);
            var staffId = p.String("staffId", true, s => Vocabulary.IsKey(s) ? null : "must be a staff id (1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-')");
            var quota = p.Decimal("quota", true, min: 0, minExclusive: true, max: MaxAmount);
            p.RefuseMisspelt(ParticipantMembers, "a participant");
            if (staffId is not null && participants.Any(x => x.StaffId == staffId)) errors.Add(p.Path("staffId"), $"'{staffId}' is listed twice");
            else if (staffId is not null && quota is not null) participants.Add(new Participant(staffId, quota.Value));
        }

        var tiers = new List<Tier>();
        var tierItems = f.Objects("tiers", required: true, out _);
        for (var i = 0; i < tierItems.Count; i++)
        {
            var (item, path) = tierItems[i];
            var t = new JsonFields(item, errors, path);
            var from = t.Decimal("from", true, min: 0, max: MaxTierPercent);
            var to = t.Decimal("to", false, min: 0, max: MaxTierPercent);
            var rate = t.Decimal("rate", true, min: 0);
            t.RefuseMisspelt(TierMembers, "a tier");
            if (rate > 1) errors.Add(t.Path("rate"), "must be at most 1 (a fraction: 0.05 pays 5%)");
            if (from is not null && to is not null && to <= from) errors.Add(t.Path("to"), "must be greater than from");
            if (to is null && i < tierItems.Count - 1 && t.Has("from")) errors.Add(t.Path("to"), "is required on every tier but the last");
            if (from is not null && tiers.Count > 0)
            {
                var previous = tiers[^1];
                if (previous.To is null || from < previous.To) errors.Add(t.Path("from"), $"overlaps the tier before it (which ends at {previous.To?.ToString() ?? "no bound"}); tiers must be in ascending order without overlap");
                // A gap would pay nothing between the two tiers without saying so (found by probing); a band paying nothing is a tier of rate 0.
                else if (from > previous.To) errors.Add(t.Path("from"), $"leaves a gap after the tier before it, which ends at {previous.To}: start this tier there (a band that pays nothing is a tier with rate 0)");
            }
            if (from is not null && rate is not null) tiers.Add(new Tier(from.Value, to, rate.Value));
        }

        decimal? cap = f.Decimal("cap", false, min: 0, minExclusive: true, max: MaxAmount);

        var gates = new List<Gate>();
        foreach (var (item, path) in f.Objects("gates", required: false, out _))
        {
            var g = new JsonFields(item, errors, path);
            var indicator = g.String("indicator", true, s =>
                !indicators.IsPerScope(s) ? $"'{JsonFields.Truncate(s)}' is not a base or derived indicator (a gate is read per staff member)"
                // A gate keeps the payout when the indicator is at least min: on one better when lower, faster complaint handling would cut the payout (found by probing).
                : indicators.Find(s)?.Direction == Direction.Lower ? $"'{JsonFields.Truncate(s)}' is better when lower; a gate keeps the payout when the indicator is at least min, so it would pay less for better work: gate on an indicator that is better when higher"
                : null);
            var min = g.Decimal("min", true);
            var factor = g.Decimal("factor", true, min: 0);
            g.RefuseMisspelt(GateMembers, "a gate");
            if (factor > 1) errors.Add(g.Path("factor"), "must be at most 1 (the share of the payout kept when the gate fails)");
            if (indicator is not null && min is not null && factor is not null) gates.Add(new Gate(indicator, min.Value, factor.Value));
        }

        f.RefuseMisspelt(Members, "an incentive plan");
        if (!errors.IsEmpty) return null;
        return new IncentivePlan
        {
            PlanId = planId, Name = name!, Grain = grain, MeasureIndicator = measure, Participants = participants, Tiers = tiers, Cap = cap, Gates = gates,
        };
    }
}
