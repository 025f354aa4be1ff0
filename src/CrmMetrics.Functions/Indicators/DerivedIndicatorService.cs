using System.Text.Json;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Indicators;

/// <summary>What a change to a derived indicator came to.</summary>
public abstract record DerivedIndicatorOutcome
{
    public sealed record Saved(DerivedIndicator Indicator, bool Created, int Version) : DerivedIndicatorOutcome;
    public sealed record Deleted : DerivedIndicatorOutcome;
    public sealed record Invalid(ValidationErrors Errors) : DerivedIndicatorOutcome;
    public sealed record NotFound(string Detail) : DerivedIndicatorOutcome;
    public sealed record Conflict(string Detail) : DerivedIndicatorOutcome;
}

/// <summary>
/// Derived indicators (<c>/api/indicators/{id}</c>): defined, checked against the catalog and each
/// other, stored, and read back as an <see cref="IndicatorResolver"/> by everything that names
/// indicators. Changes hold the <see cref="DefinitionLock"/>, so no cycle or dangling reference can
/// come of two made at once. A change or a deletion marks the current and just-closed period of every configured
/// grain stale, so the next run recomputes them with the new definition (or without it).
/// </summary>
public sealed class DerivedIndicatorService(
    DerivedIndicatorStore definitions,
    GoalStore goals,
    IncentivePlanStore plans,
    AlertRuleStore rules,
    DefinitionLock definitionLock,
    StalePeriodStore stale,
    CrmMetricsSettings settings,
    TimeProvider clock)
{
    /// <summary>The catalog with the derived indicators defined now.</summary>
    public async Task<IndicatorResolver> ResolverAsync(CancellationToken ct) => new(await definitions.ListAsync(ct));

    public Task<DerivedIndicator?> GetAsync(string id, CancellationToken ct) =>
        IndicatorCatalog.IsDerivedId(id) ? definitions.GetAsync(id, ct) : Task.FromResult<DerivedIndicator?>(null);

    /// <summary>A derived indicator with its version; null when there is none (or the id is not a derived one).</summary>
    public Task<(DerivedIndicator Document, int Version)?> GetVersionedAsync(string id, CancellationToken ct) =>
        IndicatorCatalog.IsDerivedId(id) ? definitions.GetVersionedAsync(id, ct) : Task.FromResult<(DerivedIndicator, int)?>(null);

    public async Task<IReadOnlyList<DerivedIndicator>> ListAsync(CancellationToken ct) =>
        (await definitions.ListAsync(ct)).OrderBy(d => d.Id, StringComparer.Ordinal).ToList();

    /// <summary>Defines or redefines the indicator; a stored one not meeting <paramref name="condition"/> throws <see cref="VersionConditionFailedException"/>, nothing written.</summary>
    public async Task<DerivedIndicatorOutcome> PutAsync(string id, JsonElement body, ChangeActor actor, VersionCondition condition, CancellationToken ct)
    {
        // Checked against the other definitions and written while no other change to them runs.
        await using var held = await definitionLock.AcquireAsync(ct);
        var others = (await definitions.ListAsync(ct)).Where(d => d.Id != id).ToDictionary(d => d.Id, StringComparer.Ordinal);
        var errors = new ValidationErrors();
        var indicator = DerivedIndicator.Read(id, body, others, errors);
        if (indicator is null) return new DerivedIndicatorOutcome.Invalid(errors);
        // Goals, plans and rules were checked against its direction (a plan's measure must be better when
        // higher, a goal's stretch lies on its better side): it cannot turn under them (found by probing).
        var before = await definitions.GetVersionedAsync(id, ct);
        if (before?.Document is { } stored && stored.Direction != indicator.Direction
            && (await UsersAsync(id, ct)).Where(u => !u.StartsWith("derived indicator", StringComparison.Ordinal)).ToList() is { Count: > 0 } users)
            return new DerivedIndicatorOutcome.Conflict($"'{id}' is used by {string.Join(", ", users)}, which were checked against its direction; change or delete them before changing its direction.");
        // Marked before the write as well as after it: a put that died after its write, retried, finds the same document (found by a review).
        var (created, version) = await definitions.PutVersionedAsync(id, indicator, actor, condition, ct, beforeChange: () => stale.MarkAsync(DuePeriods(), ct));
        // The same document again changes nothing (found by probing: it marked the due periods out of date).
        if (before?.Version != version) await stale.MarkAsync(DuePeriods(), ct);
        return new DerivedIndicatorOutcome.Saved(indicator, created, version);
    }

    public async Task<DerivedIndicatorOutcome> DeleteAsync(string id, ChangeActor actor, VersionCondition condition, CancellationToken ct)
    {
        if (!IndicatorCatalog.IsDerivedId(id))
            return new DerivedIndicatorOutcome.Invalid(ValidationErrors.Single("id", "only derived indicators (derived.<name>) can be deleted; the catalog's cannot"));
        await using var held = await definitionLock.AcquireAsync(ct);
        if (await definitions.GetAsync(id, ct) is null) return new DerivedIndicatorOutcome.NotFound($"There is no derived indicator '{JsonFields.Truncate(id)}'.");
        var users = await UsersAsync(id, ct);
        if (users.Count > 0) return new DerivedIndicatorOutcome.Conflict($"'{id}' is used by {string.Join(", ", users)}; change or delete them first.");
        if (!await definitions.DeleteAsync(id, actor, condition, ct, beforeChange: () => stale.MarkAsync(DuePeriods(), ct)))
            return new DerivedIndicatorOutcome.NotFound($"There is no derived indicator '{JsonFields.Truncate(id)}'.");
        // Its rows leave the snapshots of the due periods at their next run.
        await stale.MarkAsync(DuePeriods(), ct);
        return new DerivedIndicatorOutcome.Deleted();
    }

    /// <summary>What names the indicator: other derived indicators, goals, plans (measure or gates) and alert rules.</summary>
    private async Task<List<string>> UsersAsync(string id, CancellationToken ct)
    {
        bool Names(string? indicator) => indicator == id || indicator is not null && IndicatorCatalog.BenchmarkSubject(indicator) == id;
        var users = new List<string>();
        users.AddRange((await definitions.ListAsync(ct))
            .Where(d => d.Id != id && IndicatorExpression.TryParse(d.Expression, out _)?.Operands.Contains(id) == true).Select(d => $"derived indicator '{d.Id}'"));
        users.AddRange((await goals.ListAsync(ct)).Where(g => Names(g.Indicator)).Select(g => $"goal '{g.GoalId}'"));
        // Every version: the earlier ones still pay the periods before the later ones whenever those are computed again.
        users.AddRange((await plans.ListVersionedAsync(ct)).Where(p => p.Document.Versions(p.Version).Any(v => Names(v.MeasureIndicator) || v.Gates.Any(g => Names(g.Indicator))))
            .Select(p => $"incentive plan '{p.Document.PlanId}'"));
        users.AddRange((await rules.ListAsync(ct)).Where(r => Names(r.Indicator)).Select(r => $"alert rule '{r.RuleId}'"));
        return users.Order(StringComparer.Ordinal).ToList();
    }

    private IEnumerable<string> DuePeriods()
    {
        var now = clock.GetUtcNow();
        foreach (var grain in settings.Grains)
        {
            var current = settings.Calendar.PeriodOf(grain, now);
            yield return current.Key;
            yield return current.Previous().Key;
        }
    }
}
