using System.Text.Json;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Alerts;

public enum Severity { Info, Warning, Critical }

public static class AlertKinds
{
    public const string Threshold = "threshold";
    public const string GoalAtRisk = "goal-at-risk";
    public const string GoalMissed = "goal-missed";
    public const string Anomaly = "anomaly";
    public const string Trend = "trend";
    public const string Benchmark = "benchmark";

    /// <summary>Raised without a rule of its own: a goal's or threshold rule's indicator has no value.</summary>
    public const string NoData = "no-data";

    /// <summary>Raised without a rule of its own: a later computation no longer meets an alert's condition.</summary>
    public const string Resolved = "resolved";

    /// <summary>The kinds a rule may have.</summary>
    public static readonly IReadOnlyList<string> All = [Threshold, GoalAtRisk, GoalMissed, Anomaly, Trend, Benchmark];

    public static bool IsGoal(string kind) => kind is GoalAtRisk or GoalMissed;
}

/// <summary>
/// An alert rule (contract/alerts.md): a threshold on an indicator, a goal at risk or missed, an
/// anomaly (more than K standard deviations from the mean of the trailing N periods) or a trend
/// (worse for M consecutive periods), or a benchmark (own indicator below the competitors' mean,
/// its percentile among them below a bound, or its gap to a named competitor widening by more than a
/// bound against the previous period). Goal rules without a goal id apply to every goal.
/// </summary>
public sealed record AlertRule
{
    public required string RuleId { get; init; }
    public required string Kind { get; init; }
    public string? Indicator { get; init; }
    public string Scope { get; init; } = Aggregation.Scope.Org;

    /// <summary>Only periods of this grain; null for every grain.</summary>
    public Grain? Grain { get; init; }

    public string? GoalId { get; init; }
    public Severity Severity { get; init; } = Severity.Warning;

    // Threshold: crossing below/above raises Severity; crossing the critical bounds raises critical.
    public double? Below { get; init; }
    public double? Above { get; init; }
    public double? CriticalBelow { get; init; }
    public double? CriticalAbove { get; init; }

    // Goal at risk: critical once projected attainment is this many points under the goal's threshold.
    public double CriticalMargin { get; init; } = 20;

    // Benchmark: exactly one of these conditions.
    public bool BelowPeerMean { get; init; }
    public double? PercentileBelow { get; init; }
    public double? GapWidening { get; init; }
    public string? Competitor { get; init; }

    public double K { get; init; } = 3;
    public int N { get; init; } = 8;
    public int M { get; init; } = 3;
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Threshold, anomaly and trend rules: while a period is open, a sum or count (revenue, orders,
    /// complaints…), which only grows until the period ends, is judged "too high" at once and "too low"
    /// (under a bound, under the usual range, a higher-is-better trend) only once the period is over.
    /// Off by default: alerts.md judges the value as it stands.
    /// </summary>
    public bool WaitForPeriodEnd { get; init; }

    public bool AppliesTo(Grain grain) => Grain is null || Grain == grain;

    /// <summary>
    /// Whether this rule takes the place of the default alert of <paramref name="kind"/> of a goal of
    /// <paramref name="grain"/> (enabled or not: a disabled one switches it off).
    /// </summary>
    public bool ReplacesGoalDefault(string kind, string goalId, Grain grain) => Kind == kind && (GoalId is null || GoalId == goalId) && AppliesTo(grain);

    /// <summary>The indicator and scope of a benchmark rule's alerts, as <see cref="AlertEvaluator"/> raises them.</summary>
    public (string Indicator, string Scope) BenchmarkSubject() =>
        BelowPeerMean ? (Benchmarks.BenchmarkCalculator.OwnIndicator(Indicator!), Aggregation.Scope.Org)
        : PercentileBelow is not null ? ("bench.percentile." + Indicator, Aggregation.Scope.Org)
        : ("bench.gap." + Indicator, Aggregation.Scope.Competitor(Competitor ?? ""));

    /// <summary>
    /// Whether an alert this rule raised (of <paramref name="kind"/>, for that goal, indicator, scope
    /// and grain) is still one it checks, as the rule reads now.
    /// </summary>
    public bool Watches(string kind, string? goalId, string indicator, string scope, Grain grain)
    {
        if (!AppliesTo(grain)) return false;
        return kind switch
        {
            AlertKinds.NoData => Kind == AlertKinds.Threshold && Indicator == indicator && Scope == scope,
            AlertKinds.GoalAtRisk or AlertKinds.GoalMissed => goalId is not null && ReplacesGoalDefault(kind, goalId, grain),
            AlertKinds.Benchmark => Kind == kind && BenchmarkSubject() == (indicator, scope),
            _ => Kind == kind && Indicator == indicator && Scope == scope,
        };
    }

    /// <summary>The rules every goal has unless a rule of the same kind for its grain names it or all goals.</summary>
    public static IReadOnlyList<AlertRule> GoalDefaults =>
    [
        new() { RuleId = "default-goal-at-risk", Kind = AlertKinds.GoalAtRisk, Severity = Severity.Warning },
        new() { RuleId = "default-goal-missed", Kind = AlertKinds.GoalMissed, Severity = Severity.Critical },
    ];

    /// <summary>Rule ids the goals' default and no-data alerts carry, which no stored rule may take.</summary>
    public static bool IsReserved(string ruleId) =>
        ruleId == AlertEvaluator.NoDataGoalRule || GoalDefaults.Any(r => r.RuleId == ruleId);

    public static bool TryParseSeverity(string? text, out Severity severity)
    {
        switch (text)
        {
            case "info": severity = Severity.Info; return true;
            case "warning": severity = Severity.Warning; return true;
            case "critical": severity = Severity.Critical; return true;
            default: severity = default; return false;
        }
    }

    public static string Name(Severity severity) => severity switch { Severity.Info => "info", Severity.Warning => "warning", _ => "critical" };

    /// <summary>Whether a rule of <paramref name="kind"/> reads <paramref name="member"/> (true for members every kind reads).</summary>
    public static bool KindReads(string kind, string member) =>
        KindMembers.FirstOrDefault(m => m.Member == member) is not { Member: not null } entry || entry.Kinds.Contains(kind);

    /// <summary>The members only some kinds read (benchmark members and goalId are checked with their kinds).</summary>
    private static readonly (string Member, string[] Kinds)[] KindMembers =
    [
        ("below", [AlertKinds.Threshold]), ("above", [AlertKinds.Threshold]),
        ("criticalBelow", [AlertKinds.Threshold]), ("criticalAbove", [AlertKinds.Threshold]),
        ("k", [AlertKinds.Anomaly]), ("n", [AlertKinds.Anomaly]), ("m", [AlertKinds.Trend]),
        ("waitForPeriodEnd", [AlertKinds.Threshold, AlertKinds.Anomaly, AlertKinds.Trend]),
        ("criticalMargin", [AlertKinds.GoalAtRisk]),
        // A goal rule watches goals in their own scopes: a scope of its own was stored and never read.
        ("scope", [AlertKinds.Threshold, AlertKinds.Anomaly, AlertKinds.Trend, AlertKinds.Benchmark]),
    ];

    /// <summary>Every member a rule's body may carry.</summary>
    private static readonly string[] Members =
    [
        "ruleId", "kind", "indicator", "scope", "grain", "goalId", "severity", "enabled", "below", "above", "criticalBelow", "criticalAbove",
        "k", "n", "m", "waitForPeriodEnd", "criticalMargin", "belowPeerMean", "percentileBelow", "gapWidening", "competitor",
    ];

    /// <summary>Reads a rule on catalog indicators from a PUT body; each problem names its field.</summary>
    public static AlertRule? Read(string ruleId, JsonElement body, Func<string, Grain?> goalGrain, ValidationErrors errors) =>
        Read(ruleId, body, goalGrain, IndicatorResolver.Catalog, errors);

    /// <summary>Reads a rule from a PUT body; each problem names its field. Derived indicators <paramref name="indicators"/> knows may be named too.</summary>
    public static AlertRule? Read(string ruleId, JsonElement body, Func<string, Grain?> goalGrain, IndicatorResolver indicators, ValidationErrors errors)
    {
        if (!Vocabulary.IsKey(ruleId)) errors.Add("ruleId", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        // The ids the goals' own alerts carry: a rule named so would be taken for them.
        else if (IsReserved(ruleId)) errors.Add("ruleId", $"'{ruleId}' names the alerts every goal has without a rule; choose another id");
        var f = new JsonFields(body, errors);
        f.SameAsAddress("ruleId", ruleId);
        var kind = f.OneOf("kind", true, AlertKinds.All);
        var goalRule = kind is not null && AlertKinds.IsGoal(kind);
        var benchmark = kind == AlertKinds.Benchmark;
        var indicator = f.String("indicator", kind is not null && !goalRule, s =>
            benchmark ? indicators.IsReportable(s) ? null : $"'{JsonFields.Truncate(s)}' is not an indicator competitors report (a base or derived indicator, or market-share)"
            : !indicators.IsKnown(s) ? $"'{JsonFields.Truncate(s)}' is not an indicator of the catalog or a derived indicator"
            : IndicatorCatalog.Find(s)?.Family == Families.GoalAttainment ? $"'{s}' is measured per goal: a goal-at-risk or goal-missed rule (with goalId, or none for every goal) watches it"
            : null);
        if (goalRule && f.Has("indicator")) errors.Add("indicator", "is not used by goal rules; name the goal with goalId");
        var scope = f.String("scope", false, s => benchmark && s != Aggregation.Scope.Org
            ? "must be org: a benchmark rule compares the organisation with its competitors"
            : Aggregation.Scope.Problem(s)) ?? Aggregation.Scope.Org;
        if (!benchmark && !goalRule) indicators.CheckScope(indicator, scope, f.Has("scope"), "without a scope a rule watches org", errors);
        var grainText = f.String("grain", false, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
        Grain? grain = Grains.TryParse(grainText, out var g) ? g : null;
        var goalId = f.String("goalId", false, s => !goalRule ? "is used only by goal-at-risk and goal-missed rules" : goalGrain(s) is not null ? null : $"goal '{JsonFields.Truncate(s)}' does not exist");
        // A goal rule applies at its grain (or every grain): one for a goal of another grain would never apply.
        if (goalId is not null && grain is { } ruleGrain && goalGrain(goalId) is { } goalsGrain && goalsGrain != ruleGrain)
            errors.Add("grain", $"goal '{goalId}' is a {Grains.Key(goalsGrain)} goal: a rule for it at grain {Grains.Key(ruleGrain)} would never apply; give {Grains.Key(goalsGrain)}, or leave grain out");
        var severityText = f.String("severity", false, s => TryParseSeverity(s, out _) ? null : "must be info, warning or critical");
        TryParseSeverity(severityText, out var severity);
        var below = f.Number("below", false);
        var above = f.Number("above", false);
        var criticalBelow = f.Number("criticalBelow", false);
        var criticalAbove = f.Number("criticalAbove", false);
        if (kind == AlertKinds.Threshold && below is null && above is null && criticalBelow is null && criticalAbove is null && errors.IsEmpty)
            errors.Add("below", "a threshold rule needs below, above, criticalBelow or criticalAbove");
        if (below is not null && criticalBelow is not null && criticalBelow > below) errors.Add("criticalBelow", "must not be above below");
        if (above is not null && criticalAbove is not null && criticalAbove < above) errors.Add("criticalAbove", "must not be below above");
        // A value breaches under the highest lower bound or over the lowest upper bound: with the two
        // crossed, every value would breach.
        if (new[] { below, criticalBelow }.Max() is { } floor && new[] { above, criticalAbove }.Min() is { } ceiling && ceiling < floor)
            errors.Add(above == ceiling ? "above" : "criticalAbove", $"must not be below {(below == floor ? "below" : "criticalBelow")} ({floor}): every value would breach the rule");
        var margin = f.Number("criticalMargin", false, min: 0, max: 100);
        var k = f.Number("k", false, min: 0, minExclusive: true, max: 100);
        // An anomaly needs at least 3 trailing values to judge: a rule of 2 would be accepted and never fire (found by probing).
        var n = f.Integer("n", false, 3, 100);
        var m = f.Integer("m", false, 1, 50);
        var enabled = f.Boolean("enabled", false);
        var waitForPeriodEnd = f.Boolean("waitForPeriodEnd", false);
        var belowPeerMean = f.Boolean("belowPeerMean", false);
        var percentileBelow = f.Number("percentileBelow", false, min: 0, minExclusive: true, max: 100);
        var gapWidening = f.Number("gapWidening", false, min: 0);
        var competitor = f.String("competitor", false, s => Vocabulary.IsLabel(s) ? null : "must be a competitor's name (1–128 characters)");
        if (benchmark)
        {
            // belowPeerMean false is no condition: beside another one it says what the rule does not do
            // (as documents read back before GET left it out showed it); alone it is refused.
            var conditions = new[] { ("belowPeerMean", belowPeerMean == true), ("percentileBelow", f.Has("percentileBelow")), ("gapWidening", f.Has("gapWidening")) }
                .Where(c => c.Item2).Select(c => c.Item1).ToList();
            if (belowPeerMean == false && conditions.Count == 0) errors.Add("belowPeerMean", "must be true when given (leave it out for another condition)");
            else if (conditions.Count == 0 && errors.IsEmpty)
                errors.Add("belowPeerMean", "a benchmark rule needs one condition: belowPeerMean (true), percentileBelow (a percentile) or gapWidening (points, with competitor)");
            foreach (var extra in conditions.Skip(1)) errors.Add(extra, $"a benchmark rule has one condition; this one already has {conditions[0]}");
            if (f.Has("gapWidening") && !f.Has("competitor")) errors.Add("competitor", "is required with gapWidening: the gap is to one named competitor");
            if (f.Has("competitor") && !f.Has("gapWidening")) errors.Add("competitor", "is used only with gapWidening");
        }
        else if (kind is not null)
        {
            foreach (var member in (string[])["belowPeerMean", "percentileBelow", "gapWidening", "competitor"])
            {
                if (f.Has(member)) errors.Add(member, "is used only by benchmark rules");
            }
        }
        // A member of another kind would be stored and never read: the admin meant something else.
        if (kind is not null)
        {
            foreach (var (member, kinds) in KindMembers)
            {
                if (f.Has(member) && !kinds.Contains(kind)) errors.Add(member, $"is used only by {string.Join(" and ", kinds)} rules, not by {kind} rules");
            }
        }
        // Unknown members are ignored, but one that misspells a member ("critcalBelow") would leave
        // the rule without the condition the admin wrote: refused, naming the member meant.
        f.RefuseMisspelt(Members, "an alert rule");
        if (!errors.IsEmpty) return null;
        return new AlertRule
        {
            RuleId = ruleId, Kind = kind!, Indicator = indicator, Scope = scope, Grain = grain, GoalId = goalId,
            Severity = severityText is null ? (kind == AlertKinds.GoalMissed ? Severity.Critical : Severity.Warning) : severity,
            Below = below, Above = above, CriticalBelow = criticalBelow, CriticalAbove = criticalAbove,
            CriticalMargin = margin ?? 20, K = k ?? 3, N = n ?? 8, M = m ?? 3, Enabled = enabled ?? true, WaitForPeriodEnd = waitForPeriodEnd ?? false,
            BelowPeerMean = belowPeerMean ?? false, PercentileBelow = percentileBelow, GapWidening = gapWidening, Competitor = competitor,
        };
    }
}
