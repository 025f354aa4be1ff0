using System.Text.Json;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Goals;

/// <summary>A goal (contract/api.md): an indicator in a scope should reach a target in a period, or in every period of a grain.</summary>
public sealed record Goal
{
    public required string GoalId { get; init; }
    public required string Name { get; init; }
    public required string Indicator { get; init; }
    public string Scope { get; init; } = Aggregation.Scope.Org;
    public required Grain Grain { get; init; }

    /// <summary>The period the goal is for; null for every period of <see cref="Grain"/>.</summary>
    public string? Period { get; init; }

    public required decimal Target { get; init; }
    public decimal? Stretch { get; init; }
    public decimal Threshold { get; init; } = DefaultThreshold;
    public string? ParentGoalId { get; init; }

    public const decimal DefaultThreshold = 90;

    public bool AppliesTo(Period period) => period.Grain == Grain && (Period is null || Period == period.Key);

    /// <summary>
    /// Reads a goal from a PUT body. Every problem is reported with the field it concerns; the
    /// parent must exist (<paramref name="goalExists"/>) and must not lead back to this goal
    /// (<paramref name="parentOf"/> walks the stored hierarchy).
    /// </summary>
    public static Goal? Read(string goalId, JsonElement body, PeriodCalendar calendar, Func<string, bool> goalExists, Func<string, string?> parentOf, ValidationErrors errors)
    {
        if (!Vocabulary.IsKey(goalId)) errors.Add("goalId", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var f = new JsonFields(body, errors);
        var name = f.String("name", true, s => s.Length is >= 1 and <= 200 && !s.Any(char.IsControl) ? null : "must be 1–200 characters without control characters");
        var indicator = f.String("indicator", true, s => IndicatorCatalog.IsKnown(s) ? null : $"'{JsonFields.Truncate(s)}' is not an indicator of the catalog");
        var scope = f.String("scope", false, Aggregation.Scope.Problem) ?? Aggregation.Scope.Org;
        var grainText = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be one of day, week, month, quarter, year");
        Grains.TryParse(grainText, out var grain);
        var period = f.String("period", false, s => grainText is null || !Grains.TryParse(grainText, out _) ? null
            : calendar.TryParse(s, grain, out _, out var error) ? null : $"is not a {Grains.Key(grain)} of the reporting calendar ({calendar.Calendar.Setting}): {error}");
        var target = f.Decimal("target", true, min: 0, minExclusive: true);
        var stretch = f.Decimal("stretch", false, min: 0, minExclusive: true);
        var threshold = f.Decimal("threshold", false, min: 0, minExclusive: true);
        if (threshold > 100) errors.Add("threshold", "must be at most 100 (percent of the target)");
        var parent = f.String("parentGoalId", false, s =>
        {
            if (!Vocabulary.IsKey(s)) return "must be a goal id";
            if (s == goalId) return "must not be the goal itself";
            if (!goalExists(s)) return $"goal '{JsonFields.Truncate(s)}' does not exist";
            // Walk up from the parent: reaching this goal again would make a cycle.
            var seen = new HashSet<string>(StringComparer.Ordinal) { goalId };
            for (var up = s; up is not null; up = parentOf(up))
            {
                if (!seen.Add(up)) return $"would make a cycle: '{JsonFields.Truncate(up)}' is already above this goal";
            }
            return null;
        });
        if (stretch is not null && target is not null && stretch < target && IndicatorCatalog.Find(indicator)?.Direction != Direction.Lower)
            errors.Add("stretch", "must not be below the target for a higher-is-better indicator");
        if (!errors.IsEmpty) return null;
        return new Goal
        {
            GoalId = goalId,
            Name = name!,
            Indicator = indicator!,
            Scope = scope,
            Grain = grain,
            Period = period,
            Target = target!.Value,
            Stretch = stretch,
            Threshold = threshold ?? DefaultThreshold,
            ParentGoalId = parent,
        };
    }
}
