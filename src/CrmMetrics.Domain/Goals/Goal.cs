using System.Text.Json;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Goals;

/// <summary>A part of a composite goal and its weight (the weights of a composite sum to 100).</summary>
public sealed record GoalPart(string GoalId, decimal Weight);

/// <summary>
/// A goal (contract/api.md): an indicator in a scope should reach a target in a period, or in every
/// period of a grain. A composite goal (a balanced scorecard) has no indicator of its own: it is the
/// weighted mean of its parts' attainments, measured against 100 %.
/// </summary>
public sealed record Goal
{
    public required string GoalId { get; init; }
    public required string Name { get; init; }

    /// <summary>The name Persian readers see (alert <c>messageFa</c>, the dashboard in Persian); <see cref="Name"/> when absent.</summary>
    public string? NameFa { get; init; }

    /// <summary>The goal's name for readers of that language.</summary>
    public string NameIn(bool fa) => fa ? NameFa ?? Name : Name;

    /// <summary>The indicator measured; null for a composite goal.</summary>
    public string? Indicator { get; init; }

    public string Scope { get; init; } = Aggregation.Scope.Org;
    public required Grain Grain { get; init; }

    /// <summary>The period the goal is for; null for every period of <see cref="Grain"/>.</summary>
    public string? Period { get; init; }

    /// <summary>The target value; a composite's is 100 (percent attainment).</summary>
    public required decimal Target { get; init; }

    public decimal? Stretch { get; init; }
    public decimal Threshold { get; init; } = DefaultThreshold;
    public string? ParentGoalId { get; init; }

    /// <summary>A composite goal's weighted parts; null for a goal on an indicator.</summary>
    public IReadOnlyList<GoalPart>? Children { get; init; }

    /// <summary>The most a part's attainment counts for in a composite (percent).</summary>
    public decimal MaxContribution { get; init; } = DefaultMaxContribution;

    public const decimal DefaultThreshold = 90;
    public const decimal DefaultMaxContribution = 150;
    private const int MaxParts = 50;

    public bool IsComposite => Children is { Count: > 0 };

    /// <summary>Every member a goal's body may carry: those read, and those GET shows (a document read back is sent as it is).</summary>
    private static readonly string[] Members =
    [
        "goalId", "name", "nameFa", "indicator", "scope", "grain", "period", "target", "stretch", "threshold", "parentGoalId",
        "children", "composite", "maxContribution", "partOf",
    ];

    private static readonly string[] PartMembers = ["goalId", "weight"];

    public bool AppliesTo(Period period) => period.Grain == Grain && (Period is null || Period == period.Key);

    /// <summary>`children` as GET shows them for a goal that is no composite (which names an indicator): an array of goal ids, empty too.</summary>
    private static bool IsRollupList(JsonElement children) =>
        children.ValueKind == JsonValueKind.Array && children.EnumerateArray().All(c => c.ValueKind == JsonValueKind.String);

    /// <summary>
    /// Reads a goal from a PUT body. Every problem is reported with the field it concerns. The other
    /// goals (<paramref name="goals"/>, as stored) decide whether a parent or a part exists, whether
    /// a parent chain or a composite tree would make a cycle, and whether grains agree.
    /// </summary>
    public static Goal? Read(string goalId, JsonElement body, PeriodCalendar calendar, IReadOnlyDictionary<string, Goal> goals, IndicatorResolver indicators, ValidationErrors errors)
    {
        if (!Vocabulary.IsKey(goalId)) errors.Add("goalId", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var f = new JsonFields(body, errors);
        f.SameAsAddress("goalId", goalId);
        // GET shows a goal that is no composite with `children` too: the ids of the goals naming it as
        // parent (read-only). A document read back is taken as shown (found by probing: GET → PUT was a 400).
        var composite = f.TryGet("children", out var children0) && !(IsRollupList(children0) && f.Has("indicator"));
        if (!composite && f.TryGet("children", out var shown))
        {
            var actual = goals.Values.Where(g => g.ParentGoalId == goalId).Select(g => g.GoalId).Order(StringComparer.Ordinal).ToList();
            var given = shown.EnumerateArray().Select(c => c.GetString()!).Order(StringComparer.Ordinal).ToList();
            if (given.Count > 0 && !given.SequenceEqual(actual))
                errors.Add("children", $"of a goal that is no composite lists the goals naming it as parent ({(actual.Count == 0 ? "none" : string.Join(", ", actual.Select(a => $"'{a}'")))}), as GET shows them; it cannot be set here: set a child's parentGoalId, or give children objects with weights for a composite");
        }
        var name = f.DisplayName("name", true);
        var nameFa = f.DisplayName("nameFa", false);
        string? indicator = null;
        var scope = Aggregation.Scope.Org;
        decimal? target = null, stretch = null;
        if (composite)
        {
            foreach (var member in (string[])["indicator", "scope", "target", "stretch"])
            {
                // A composite's target is 100 % (GET shows it so): given as 100, it is what it is.
                if (member == "target" && f.TryGet("target", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetDecimal(out var hundred) && hundred == 100) continue;
                if (f.Has(member)) errors.Add(member, "is not used by a composite goal: its score is the weighted attainment of its children, measured against 100%");
            }
        }
        else
        {
            indicator = f.String("indicator", true, s =>
                !indicators.IsKnown(s) ? $"'{JsonFields.Truncate(s)}' is not an indicator of the catalog or a derived indicator"
                : IndicatorCatalog.Find(s)?.Family == Families.GoalAttainment ? $"'{s}' is what goals produce, not something a goal can measure: a goal made of other goals is a composite (children with weights)"
                : null);
            scope = f.String("scope", false, s => Aggregation.Scope.Problem(s)) ?? Aggregation.Scope.Org;
            indicators.CheckScope(indicator, scope, f.Has("scope"), "without a scope a goal measures org", errors);
            // A target of 0 is allowed (the contract: attainment is null when t = 0); a negative one is not.
            // 1e-30 would read as 0, a goal without an attainment: refused rather than turned into one.
            target = f.Decimal("target", true, min: 0, refuseRoundedZero: true);
            stretch = f.Decimal("stretch", false, min: 0);
            if (f.Has("maxContribution")) errors.Add("maxContribution", "is used only by composite goals (goals with children)");
        }
        var grainText = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
        var grainKnown = Grains.TryParse(grainText, out var grain);
        var period = f.String("period", false, s => !grainKnown ? null
            : !calendar.TryParse(s, grain, out var parsed, out var error) ? $"is not a {Grains.Key(grain)} of the reporting calendar ({calendar.Calendar.Setting}): {error}"
            : PeriodReach.Problem(calendar, parsed!, s, DateTimeOffset.UtcNow));
        var threshold = f.Decimal("threshold", false, min: 0, minExclusive: true);
        if (threshold > 100) errors.Add("threshold", "must be at most 100 (percent of the target)");
        var parent = f.String("parentGoalId", false, s =>
        {
            if (!Vocabulary.IsKey(s)) return "must be a goal id";
            if (s == goalId) return "must not be the goal itself";
            if (!goals.TryGetValue(s, out var p)) return $"goal '{JsonFields.Truncate(s)}' does not exist";
            if (p.IsComposite) return $"goal '{JsonFields.Truncate(s)}' is a composite: add this goal to its children, with a weight, instead";
            // Walk up from the parent: reaching this goal again would make a cycle.
            var seen = new HashSet<string>(StringComparer.Ordinal) { goalId };
            for (var up = s; up is not null; up = goals.GetValueOrDefault(up)?.ParentGoalId)
            {
                if (!seen.Add(up)) return $"would make a cycle: '{JsonFields.Truncate(up)}' is already above this goal";
            }
            return null;
        });
        if (stretch is not null && target is not null && stretch < target && indicators.Find(indicator)?.Direction != Direction.Lower)
            errors.Add("stretch", "must not be below the target for a higher-is-better indicator");
        if (stretch is not null && target is not null && stretch > target && indicators.Find(indicator)?.Direction == Direction.Lower)
            errors.Add("stretch", "must not be above the target for a lower-is-better indicator (a stretch asks for less)");

        IReadOnlyList<GoalPart>? children = null;
        decimal? maxContribution = null;
        if (composite)
        {
            children = ReadChildren(goalId, f, grainKnown ? grain : null, period, goals, errors);
            maxContribution = f.Decimal("maxContribution", false, min: 100);
            if (maxContribution > 1000) errors.Add("maxContribution", "must be at most 1000 (percent)");
            var rollup = goals.Values.Where(g => g.ParentGoalId == goalId).Select(g => g.GoalId).Order(StringComparer.Ordinal).ToList();
            if (rollup.Count > 0)
                errors.Add("children", $"goals {string.Join(", ", rollup.Select(r => $"'{r}'"))} name this goal as their parent; a composite's children are its weighted parts — remove their parentGoalId first");
        }

        // Composites that contain this goal need it in their grain and period (the same rules as when
        // the composite names its children, checked from this side too).
        if (grainKnown)
        {
            foreach (var container in goals.Values.Where(g => g.GoalId != goalId && g.Children?.Any(c => c.GoalId == goalId) == true).OrderBy(g => g.GoalId, StringComparer.Ordinal))
            {
                if (container.Grain != grain)
                    errors.Add("grain", $"this goal is a part of composite goal '{container.GoalId}', a {Grains.Key(container.Grain)} goal; its parts must be {Grains.Key(container.Grain)} goals");
                else if (container.Period is not null && period is not null && container.Period != period)
                    errors.Add("period", $"this goal is a part of composite goal '{container.GoalId}', which is for {container.Period}; its parts must be for {container.Period} or every period");
            }
            // A roll-up parent and its children are listed together only within one grain.
            if (parent is not null && goals.TryGetValue(parent, out var parentGoal) && parentGoal.Grain != grain)
                errors.Add("parentGoalId", $"goal '{parent}' is a {Grains.Key(parentGoal.Grain)} goal; a child must have its parent's grain");
            var otherGrain = goals.Values.Where(g => g.ParentGoalId == goalId && g.Grain != grain).Select(g => g.GoalId).Order(StringComparer.Ordinal).ToList();
            if (otherGrain.Count > 0)
                errors.Add("grain", $"goals {string.Join(", ", otherGrain.Select(g => $"'{g}'"))} name this goal as their parent with another grain; a parent must have its children's grain");
        }

        f.RefuseMisspelt(Members, "a goal");
        if (!errors.IsEmpty) return null;
        return new Goal
        {
            GoalId = goalId,
            Name = name!,
            NameFa = nameFa,
            Indicator = indicator,
            Scope = scope,
            Grain = grain,
            Period = period,
            Target = composite ? 100 : target!.Value,
            Stretch = stretch,
            Threshold = threshold ?? DefaultThreshold,
            ParentGoalId = parent,
            Children = children,
            MaxContribution = maxContribution ?? DefaultMaxContribution,
        };
    }

    private static List<GoalPart>? ReadChildren(string goalId, JsonFields f, Grain? grain, string? period, IReadOnlyDictionary<string, Goal> goals, ValidationErrors errors)
    {
        var items = f.Objects("children", required: true, out var complete);
        if (items.Count > MaxParts)
        {
            errors.Add("children", $"must have at most {MaxParts} children");
            return null;
        }
        var parts = new List<GoalPart>();
        for (var i = 0; i < items.Count; i++)
        {
            var (item, path) = items[i];
            var c = new JsonFields(item, errors, path);
            var childId = c.String("goalId", true, s =>
            {
                if (!Vocabulary.IsKey(s)) return "must be a goal id";
                if (s == goalId) return "must not be the goal itself";
                if (!goals.TryGetValue(s, out var child)) return $"goal '{JsonFields.Truncate(s)}' does not exist";
                if (parts.Any(p => p.GoalId == s)) return $"'{JsonFields.Truncate(s)}' is listed twice";
                if (grain is { } g && child.Grain != g)
                    return $"goal '{JsonFields.Truncate(s)}' is a {Grains.Key(child.Grain)} goal; the children of a {Grains.Key(g)} composite must be {Grains.Key(g)} goals";
                if (period is not null && child.Period is not null && child.Period != period)
                    return $"goal '{JsonFields.Truncate(s)}' is for {child.Period}, this composite for {period}";
                if (DependencyPath.Find(s, goalId, id => goals.GetValueOrDefault(id)?.Children?.Select(p => p.GoalId) ?? []) is { } path) return $"would make a cycle: {string.Join(" contains ", path.Select(p => $"'{p}'"))}, which would contain '{s}' again";
                return null;
            });
            var weight = c.Decimal("weight", true, min: 0, minExclusive: true);
            c.RefuseMisspelt(PartMembers, "a composite's part");
            if (childId is not null && weight is not null) parts.Add(new GoalPart(childId, weight.Value));
            else complete = false;
        }
        if (complete && parts.Sum(p => p.Weight) is var sum && sum != 100)
            errors.Add("children", $"the weights must sum to 100; they sum to {sum.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return parts;
    }
}
