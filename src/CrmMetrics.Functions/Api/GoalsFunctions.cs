using System.Text.Json.Nodes;
using CrmMetrics.Domain.Goals;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Storage.Snapshots;
using System.Text.Json.Serialization;

namespace CrmMetrics.Functions.Api;

/// <summary>Goals (<c>/api/goals/{goalId}</c>) and their attainment per period (<c>/api/goals/attainment</c>).</summary>
public sealed class GoalsFunctions(GoalStore goals, AlertRuleStore rules, DefinitionLock definitionLock, StalePeriodStore stale, SnapshotReader reader, Indicators.DerivedIndicatorService derived,
    Alerts.AlertService alerts, CrmMetricsSettings settings, TimeProvider clock)
{
    /// <summary>
    /// A goal as defined. <c>children</c> is what it is made of: a composite's weighted parts
    /// (<c>[{ goalId, weight }]</c>, as PUT takes them), else the ids of the goals naming it as parent.
    /// </summary>
    public sealed record GoalDto(string GoalId, string Name, string? Indicator, string? Scope, string Grain, string? Period, decimal Target, decimal? Stretch,
        decimal Threshold, string? ParentGoalId, JsonNode Children, bool Composite, decimal? MaxContribution, IReadOnlyList<string> PartOf, string? NameFa)
    {
        public static GoalDto From(Goal g, IEnumerable<Goal> all)
        {
            var goals = all.ToList();
            JsonNode children = g.IsComposite
                ? new JsonArray(g.Children!.Select(c => (JsonNode)new JsonObject { ["goalId"] = c.GoalId, ["weight"] = c.Weight }).ToArray())
                : new JsonArray(goals.Where(c => c.ParentGoalId == g.GoalId).Select(c => c.GoalId).Order(StringComparer.Ordinal).Select(id => (JsonNode)JsonValue.Create(id)!).ToArray());
            return new GoalDto(g.GoalId, g.Name, g.Indicator, g.IsComposite ? null : g.Scope, Grains.Key(g.Grain), g.Period, g.Target, g.Stretch,
                g.Threshold, g.ParentGoalId, children, g.IsComposite, g.IsComposite ? g.MaxContribution : null,
                goals.Where(c => c.Children?.Any(p => p.GoalId == g.GoalId) == true).Select(c => c.GoalId).Order(StringComparer.Ordinal).ToList(), g.NameFa);
        }
    }

    /// <summary>A goal's standing in a period; for a composite, <c>children</c> lists each part's attainment, weight and contribution.</summary>
    public sealed record AttainmentDto(string GoalId, string? Name, string? Indicator, string? Scope, string Grain, string Period, double? Actual, decimal? Target,
        double? Attainment, double? Projected, double? ProjectedAttainment, string? Status, decimal? Threshold, decimal? Stretch, string? ParentGoalId,
        JsonNode? Children, bool Composite, decimal? MaxContribution, DateTimeOffset ComputedAt, string RunId, int Version, string? NameFa)
    {
        public static AttainmentDto From(SnapshotRow row)
        {
            var d = row.Details ?? [];
            return new AttainmentDto(
                d["goalId"]?.GetValue<string>() ?? Domain.Aggregation.Scope.ValueOf(row.Scope)!, d["name"]?.GetValue<string>(), d["indicator"]?.GetValue<string>(),
                d["scope"]?.GetValue<string>(), Grains.Key(row.Grain), row.Period, Num(d["actual"]), Dec(d["target"]), row.Value, Num(d["projected"]),
                Num(d["projectedAttainment"]), d["status"]?.GetValue<string>(), Dec(d["threshold"]), Dec(d["stretch"]), d["parentGoalId"]?.GetValue<string>(),
                d["children"]?.DeepClone(), d["composite"]?.GetValue<bool>() ?? false, Dec(d["maxContribution"]), row.ComputedAt, row.RunId, row.Version,
                d["nameFa"]?.GetValue<string>());
        }
    }

    /// <param name="CalendarChange">Only when the period is not served because its key means other days since it was computed (<see cref="SnapshotReader.CalendarChange"/>).</param>
    public sealed record AttainmentResponse(string Period, string Grain, IReadOnlyList<AttainmentDto> Items,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalendarChange = null);

    /// <summary>A literal route segment under /api/goals, so no goal may be named like it.</summary>
    private const string Reserved = "attainment";

    [Function("GoalAttainment")]
    [ApiOperation("GET", "GetGoalAttainment", Access.Reader, RequiredQuery = ["period"], Query = ["grain", "period"], Summary = "Every goal's attainment, projection and status for a period.", Response = typeof(AttainmentResponse), Problems = [400])]
    public Task<IResult> AttainmentAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/goals/attainment")] HttpRequest request, CancellationToken ct) =>
        ReadAttainmentAsync(request, ct);

    [Function("Goals")]
    [ApiOperation("GET", "ListGoals", Access.Reader, Summary = "Every goal.", Response = typeof(List<GoalDto>))]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/goals")] HttpRequest request, CancellationToken ct)
    {
        var all = await goals.ListAsync(ct);
        return TypedResults.Ok(all.OrderBy(g => g.GoalId, StringComparer.Ordinal).Select(g => GoalDto.From(g, all)).ToList());
    }

    // Named to sort after GoalAttainment: the Functions host takes the first route that matches in the order of function
    // names, so under the name "Goal" this route took GET api/goals/attainment in Azure (found by a review against the host's source).
    [Function("GoalById")]
    [ApiOperation("GET", "GetGoal", Access.Reader, Summary = "A goal.", Response = typeof(GoalDto), Problems = [404])]
    [ApiOperation("PUT", "PutGoal", Access.Admin, Summary = "Create or replace a goal.", Response = typeof(GoalDto), AlsoStatus = 201, Problems = [400, 412, 413, 415])]
    [ApiOperation("DELETE", "DeleteGoal", Access.Admin, Summary = "Delete a goal (not while it has children, is part of a composite or an alert rule watches it).", Status = 204, Problems = [400, 404, 409, 412])]
    public Task<IResult> GoalAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "put", "delete", Route = "api/goals/{goalId}")] HttpRequest request, string goalId, CancellationToken ct) =>
        request.Method.ToUpperInvariant() switch
        {
            "PUT" => PutAsync(goalId, request, ct),
            "DELETE" => DeleteAsync(goalId, request, ct),
            _ => GetAsync(goalId, request, ct),
        };

    private async Task<IResult> GetAsync(string goalId, HttpRequest request, CancellationToken ct)
    {
        var all = await goals.ListVersionedAsync(ct);
        if (all.FirstOrDefault(g => g.Document.GoalId == goalId) is not { Document: { } goal } found) return Problems.NotFound($"There is no goal '{JsonFields.Truncate(goalId)}'.");
        VersionPreconditions.Tag(request, found.Version);
        return TypedResults.Ok(GoalDto.From(goal, all.Select(g => g.Document)));
    }

    private async Task<IResult> PutAsync(string goalId, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        // Checked against the other definitions and written while no other change to them runs.
        await using var held = await definitionLock.AcquireAsync(ct);
        var stored = await goals.ListVersionedAsync(ct);
        var all = stored.Select(g => g.Document).ToDictionary(g => g.GoalId, StringComparer.Ordinal);
        var before = stored.FirstOrDefault(g => g.Document.GoalId == goalId);
        var errors = new ValidationErrors();
        if (goalId == Reserved) errors.Add("goalId", $"'{Reserved}' is reserved");
        var goal = Goal.Read(goalId, body!.Root, settings.Calendar, all, await derived.ResolverAsync(ct), errors);
        if (goal is null || !errors.IsEmpty) return Problems.Validation(errors);
        // A rule naming the goal at a grain applies only there (a rule is refused at another grain): a
        // new grain would leave it never applying, and the goal's default alerts back without a word.
        var stranded = (await rules.ListAsync(ct)).Where(r => r.GoalId == goalId && r.Grain is { } grain && grain != goal.Grain)
            .Select(r => $"'{r.RuleId}'").Order(StringComparer.Ordinal).ToList();
        if (stranded.Count > 0)
            return Problems.Conflict($"Goal '{goalId}' is watched at another grain than {Grains.Key(goal.Grain)} by alert rule {string.Join(", ", stranded)}; change their grain or delete them first.");

        var changed = DuePeriods(goal.Grain, goal.Period, settings, clock).Concat(before.Document is { } old ? DuePeriods(old.Grain, old.Period, settings, clock) : []).Distinct().ToList();
        // Marked before the write as well as after it: a put that died after its write, retried, finds the same document
        // stored and marks nothing (found by a review: a fixed period kept its attainment against the old target).
        // Marked after too, since a run may finalise the period between the first marks and the write.
        var (created, version) = await goals.PutVersionedAsync(goalId, goal, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct,
            beforeChange: () => stale.MarkAsync(changed, ct));
        VersionPreconditions.Tag(request, version);
        all[goalId] = goal;
        // The same document again changes nothing (found by probing: it marked the goal's periods out of date),
        // but the periods of alerts nothing watches are marked whenever there are some: a put retried after
        // one whose marks were lost finds its document stored and would otherwise mark nothing (found in review).
        // Not cancelled with the request: the document is stored, and what it changed must be marked.
        IEnumerable<string> due = created || before.Version != version ? changed : [];
        // With the storage clients' full tries, as queue work has them: the document is in, and a 503 would have the client retry a write that is done.
        using (Storage.Account.StorageAnswerLimit.Lifted())
            await stale.MarkAsync(due.Concat(await alerts.PeriodsWithUnwatchedAlertsAsync(CancellationToken.None)).Distinct().ToList(), CancellationToken.None);
        var dto = GoalDto.From(goal, all.Values);
        return created ? TypedResults.Created($"/api/goals/{goalId}", dto) : TypedResults.Ok(dto);
    }

    private async Task<IResult> DeleteAsync(string goalId, HttpRequest request, CancellationToken ct)
    {
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        // Checked against the other definitions and written while no other change to them runs.
        await using var held = await definitionLock.AcquireAsync(ct);
        var all = await goals.ListAsync(ct);
        var children = all.Where(g => g.ParentGoalId == goalId).Select(g => g.GoalId).ToList();
        if (children.Count > 0) return Problems.Conflict($"Goal '{goalId}' is the parent of {string.Join(", ", children)}; move or delete them first.");
        var composites = all.Where(g => g.Children?.Any(c => c.GoalId == goalId) == true).Select(g => g.GoalId).Order(StringComparer.Ordinal).ToList();
        if (composites.Count > 0) return Problems.Conflict($"Goal '{goalId}' is a child of composite goal {string.Join(", ", composites)}; remove it from their children first.");
        var watching = (await rules.ListAsync(ct)).Where(r => r.GoalId == goalId).Select(r => $"'{r.RuleId}'").Order(StringComparer.Ordinal).ToList();
        if (watching.Count > 0) return Problems.Conflict($"Goal '{goalId}' is watched by alert rule {string.Join(", ", watching)}; change or delete them first.");
        // Its periods are marked before the delete too: a delete retried after one that died after it finds no goal (found by a review).
        if (all.FirstOrDefault(g => g.GoalId == goalId) is not { } goal
            || !await goals.DeleteAsync(goalId, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct,
                beforeChange: () => stale.MarkAsync(DuePeriods(goal.Grain, goal.Period, settings, clock).ToList(), ct)))
            return Problems.NotFound($"There is no goal '{JsonFields.Truncate(goalId)}'.");
        // Its attainment rows leave the snapshots at the next run of its periods, where its open alerts are resolved.
        using (Storage.Account.StorageAnswerLimit.Lifted())
            await stale.MarkAsync(DuePeriods(goal.Grain, goal.Period, settings, clock).Concat(await alerts.PeriodsWithUnwatchedAlertsAsync(CancellationToken.None)).Distinct().ToList(), CancellationToken.None);
        return TypedResults.NoContent();
    }

    private async Task<IResult> ReadAttainmentAsync(HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var period = q.Period("period", q.Grain());
        if (period is null && !q.Errors.Has("period") && !q.Errors.Has("grain")) q.Errors.Add("period", "is required (a period key such as 2026-11)");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);
        var read = await reader.ReadPeriodAsync(period!, new SnapshotFilter(Indicator: "goal.attainment"), ct);
        return TypedResults.Ok(new AttainmentResponse(period!.Key, Grains.Key(period.Grain), read.Rows.Select(AttainmentDto.From).ToList(), read.CalendarChange));
    }

    /// <summary>The periods a goal or plan change affects first: its own, else the current and the just-closed one.</summary>
    public static IEnumerable<string> DuePeriods(Grain grain, string? period, CrmMetricsSettings settings, TimeProvider clock)
    {
        if (period is not null) return [period];
        var current = settings.Calendar.PeriodOf(grain, clock.GetUtcNow());
        return [current.Key, current.Previous().Key];
    }

    private static double? Num(JsonNode? node) => node is null ? null : double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
    private static decimal? Dec(JsonNode? node) => node is null ? null : decimal.Parse(node.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
}
