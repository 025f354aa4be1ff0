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

    /// <summary>The first period (a key of <see cref="Grain"/>) this version pays; null: every period before the next version (an undated plan: every period).</summary>
    public string? EffectiveFrom { get; init; }

    /// <summary>On an earlier version: the plan's version (its ETag, the audit trail's) at which it was stored as the current one. Null on the current version, whose version is the document's.</summary>
    public int? PlanVersion { get; init; }

    /// <summary>The versions that pay the periods before <see cref="EffectiveFrom"/>, oldest first; null when there are none (as in every plan stored before dated versions).</summary>
    public IReadOnlyList<IncentivePlan>? EarlierVersions { get; init; }

    /// <summary>The largest quota or cap: the largest amount a fact may carry (far above any real one).</summary>
    public const decimal MaxAmount = (decimal)Facts.FactValidator.MaxMagnitude;

    /// <summary>Every member a plan's body and its parts may carry (GET shows the same).</summary>
    private static readonly string[] Members = ["planId", "name", "grain", "measure", "participants", "tiers", "cap", "gates", "effectiveFrom", "versions"];
    private static readonly string[] MeasureMembers = ["indicator"];
    private static readonly string[] ParticipantMembers = ["staffId", "quota"];
    private static readonly string[] TierMembers = ["from", "to", "rate"];
    private static readonly string[] GateMembers = ["indicator", "min", "factor"];

    /// <summary>The largest tier bound, in percent of quota (10,000 times the quota).</summary>
    public const decimal MaxTierPercent = 1_000_000;

    /// <summary>Reads a plan on catalog indicators from a PUT body; every problem names its field (e.g. <c>tiers[1].from</c>).</summary>
    public static IncentivePlan? Read(string planId, JsonElement body, PeriodCalendar calendar, ValidationErrors errors) => Read(planId, body, calendar, IndicatorResolver.Catalog, errors);

    /// <summary>
    /// Reads a plan from a PUT body; its measure and gates may be base or derived indicators
    /// (<paramref name="indicators"/>), its <c>effectiveFrom</c> a period of its grain in <paramref name="calendar"/>.
    /// The read-only <c>versions</c> a GET shows are taken as shown (see <see cref="Over"/> for what is kept).
    /// </summary>
    public static IncentivePlan? Read(string planId, JsonElement body, PeriodCalendar calendar, IndicatorResolver indicators, ValidationErrors errors)
    {
        if (!Vocabulary.IsKey(planId)) errors.Add("planId", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var f = new JsonFields(body, errors);
        f.SameAsAddress("planId", planId);
        var name = f.DisplayName("name", true);
        var grainText = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
        var grainKnown = Grains.TryParse(grainText, out var grain);
        var effectiveFrom = f.String("effectiveFrom", false, s => !grainKnown ? null
            : !calendar.TryParse(s, grain, out var parsed, out var error) ? $"is not a {Grains.Key(grain)} of the reporting calendar ({calendar.Calendar.Setting}), the plan's grain: {error}"
            : PeriodReach.Problem(calendar, parsed!, s, DateTimeOffset.UtcNow));
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
            EffectiveFrom = effectiveFrom,
        };
    }

    /// <summary>Every version, oldest first, each with the plan version it was stored at; the last is the current one, at <paramref name="version"/> (the document's).</summary>
    public IReadOnlyList<IncentivePlan> Versions(int version) => [.. EarlierVersions ?? [], this with { EarlierVersions = null, PlanVersion = version }];

    /// <summary>
    /// This version (just read from a PUT body) stored over <paramref name="stored"/> (at <paramref name="storedVersion"/>;
    /// null: none): it pays its <see cref="EffectiveFrom"/> and every later period, so the stored versions that start
    /// before it are kept and the others are replaced. Without <see cref="EffectiveFrom"/> it replaces every version,
    /// as a PUT did before dated versions. A dated version keeps the plan's grain (a 400 naming <c>grain</c>):
    /// periods of two grains do not follow one another, so "from this period on" would not say which periods each pays.
    /// </summary>
    public IncentivePlan? Over(IncentivePlan? stored, int storedVersion, PeriodCalendar calendar, ValidationErrors errors)
    {
        if (EffectiveFrom is null || stored is null) return this;
        if (stored.Grain != Grain)
        {
            errors.Add("grain", $"is {Grains.Key(Grain)}, but the plan is of grain {Grains.Key(stored.Grain)}: a version with effectiveFrom keeps the plan's grain " +
                                "(send the plan without effectiveFrom to replace it for every period in another grain)");
            return null;
        }
        var from = Start(EffectiveFrom, calendar);
        var kept = stored.Versions(storedVersion).Where(v => v.EffectiveFrom is null || Start(v.EffectiveFrom, calendar) < from).ToList();
        return this with { EarlierVersions = kept.Count == 0 ? null : kept };
    }

    /// <summary>The version that pays <paramref name="period"/> (with its <see cref="PlanVersion"/> if an earlier one), or null when the plan pays none there: another grain, or before its first version.</summary>
    public IncentivePlan? VersionFor(Period period)
    {
        if (period.Grain != Grain) return null;
        if (StartsBy(period)) return this with { EarlierVersions = null };
        return (EarlierVersions ?? []).LastOrDefault(v => v.StartsBy(period));
    }

    /// <summary>Whether this version has begun by <paramref name="period"/> (of its grain): no <see cref="EffectiveFrom"/>, or one no later than the period.</summary>
    public bool StartsBy(Period period) => EffectiveFrom is null || Start(EffectiveFrom, period.Calendar) <= period.Start;

    /// <summary>
    /// The versions that pay some period from <paramref name="effectiveFrom"/> on (null: any period): a version pays
    /// until the next one starts, the current one for good.
    /// </summary>
    public IEnumerable<IncentivePlan> VersionsPayingFrom(string? effectiveFrom, int version, PeriodCalendar calendar)
    {
        var versions = Versions(version);
        var from = effectiveFrom is null ? DateTimeOffset.MinValue : Start(effectiveFrom, calendar);
        return versions.Where((v, i) => i == versions.Count - 1 || Start(versions[i + 1].EffectiveFrom!, calendar) > from);
    }

    /// <summary>
    /// When the period keyed <paramref name="key"/> of this plan's grain starts. A key the calendar no longer reads
    /// (a setting changed since it was stored) counts as never starting, so its version pays nothing rather than failing the run.
    /// </summary>
    private DateTimeOffset Start(string key, PeriodCalendar calendar) =>
        calendar.TryParse(key, Grain, out var period, out _) ? period.Start : DateTimeOffset.MaxValue;
}
