using System.Text.Json.Nodes;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Storage.Alerts;
using CrmMetrics.Storage.Settings;

namespace CrmMetrics.Functions.Api;

/// <summary>Alert rules (<c>/api/alert-rules/{ruleId}</c>: admin, GET reader, as for goals and plans) and the alerts sent (<c>/api/alerts?since=</c>).</summary>
public sealed class AlertsFunctions(AlertRuleStore rules, GoalStore goals, DefinitionLock definitionLock, AlertLedger ledger, Indicators.DerivedIndicatorService derived,
    Alerts.AlertService alerts, Storage.Runs.StalePeriodStore stale, CrmMetricsSettings settings)
{
    /// <summary>
    /// A rule as defined. Members its kind does not read are null, so the document a GET returns can be
    /// sent back with a PUT (found by probing: a threshold rule came back with the anomaly's k and n, which a PUT refuses).
    /// </summary>
    public sealed record RuleDto(string RuleId, string Kind, string? Indicator, string? Scope, string? Grain, string? GoalId, string Severity,
        double? Below, double? Above, double? CriticalBelow, double? CriticalAbove, double? CriticalMargin, double? K, int? N, int? M, bool Enabled,
        bool? BelowPeerMean, double? PercentileBelow, double? GapWidening, string? Competitor, bool? WaitForPeriodEnd)
    {
        public static RuleDto From(AlertRule r) => new(r.RuleId, r.Kind, r.Indicator, Read(r, "scope", r.Scope), r.Grain is { } g ? Grains.Key(g) : null, r.GoalId, AlertRule.Name(r.Severity),
            r.Below, r.Above, r.CriticalBelow, r.CriticalAbove, Read(r, "criticalMargin", r.CriticalMargin), Read(r, "k", r.K), Read(r, "n", r.N), Read(r, "m", r.M), r.Enabled,
            // Shown only when it is the rule's condition: a false beside another condition read as a second one.
            r.Kind == AlertKinds.Benchmark && r.BelowPeerMean ? true : null, r.PercentileBelow, r.GapWidening, r.Competitor,
            r.Kind is AlertKinds.Threshold or AlertKinds.Anomaly or AlertKinds.Trend ? r.WaitForPeriodEnd : null);

        private static T? Read<T>(AlertRule r, string member, T value) where T : struct => AlertRule.KindReads(r.Kind, member) ? value : null;
        private static string? Read(AlertRule r, string member, string value) => AlertRule.KindReads(r.Kind, member) ? value : null;
    }

    public sealed record AlertsResponse(IReadOnlyList<JsonObject> Items, string? ContinuationToken);

    [Function("AlertRules")]
    [ApiOperation("GET", "ListAlertRules", Access.Reader, Summary = "Every alert rule (goals without a rule get the default goal rules).", Response = typeof(List<RuleDto>))]
    public async Task<IResult> ListRulesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/alert-rules")] HttpRequest request, CancellationToken ct) =>
        TypedResults.Ok((await rules.ListAsync(ct)).OrderBy(r => r.RuleId, StringComparer.Ordinal).Select(RuleDto.From).ToList());

    [Function("AlertRule")]
    [ApiOperation("GET", "GetAlertRule", Access.Reader, Summary = "An alert rule.", Response = typeof(RuleDto), Problems = [404])]
    [ApiOperation("PUT", "PutAlertRule", Access.Admin,
        Summary = "Create or replace an alert rule: threshold, goal-at-risk, goal-missed, anomaly (k, n), trend (m) or benchmark (belowPeerMean, percentileBelow, or gapWidening with competitor); threshold, anomaly and trend rules take waitForPeriodEnd.",
        Response = typeof(RuleDto), AlsoStatus = 201, Problems = [400, 412, 413, 415])]
    [ApiOperation("DELETE", "DeleteAlertRule", Access.Admin, Summary = "Delete an alert rule.", Status = 204, Problems = [400, 404, 412])]
    public async Task<IResult> RuleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "put", "delete", Route = "api/alert-rules/{ruleId}")] HttpRequest request,
        string ruleId, CancellationToken ct)
    {
        if (HttpMethods.IsPut(request.Method)) return await PutAsync(ruleId, request, ct);
        if (HttpMethods.IsDelete(request.Method))
        {
            if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
            await using var held = await definitionLock.AcquireAsync(ct);
            if (!await rules.DeleteAsync(ruleId, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct)) return Problems.NotFound($"There is no alert rule '{JsonFields.Truncate(ruleId)}'.");
            // Not cancelled with the request: the rule is gone, and what it leaves unwatched must be marked.
            using (Storage.Account.StorageAnswerLimit.Lifted()) await stale.MarkAsync(await alerts.PeriodsWithUnwatchedAlertsAsync(CancellationToken.None), CancellationToken.None);
            return TypedResults.NoContent();
        }
        if (await rules.GetVersionedAsync(ruleId, ct) is not { } found) return Problems.NotFound($"There is no alert rule '{JsonFields.Truncate(ruleId)}'.");
        VersionPreconditions.Tag(request, found.Version);
        return TypedResults.Ok(RuleDto.From(found.Document));
    }

    [Function("Alerts")]
    [ApiOperation("GET", "GetAlerts", Access.Reader, Query = ["since", "grain", "period", "severity", "kind", "state", "pageSize", "continuationToken"],
        Summary = "Alerts sent, newest first, as CloudEvents with their state (open, or resolved with resolvedBy); filters since (ISO date or date-time), period (with grain, or its grain read from the key: the alerts about that period), severity, kind and state; paged.",
        Response = typeof(AlertsResponse), Problems = [400])]
    public Task<IResult> AlertsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/alerts")] HttpRequest request, CancellationToken ct) => ListAsync(request, ct);

    private async Task<IResult> PutAsync(string ruleId, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBodies.ReadObjectAsync(request, allowEmpty: false, ct);
        if (problem is not null) return problem;
        using var bodyScope = body;
        if (VersionPreconditions.Read(request, out var refused) is not { } condition) return refused;
        // Checked against the other definitions and written while no other change to them runs.
        await using var held = await definitionLock.AcquireAsync(ct);
        var goalGrains = (await goals.ListAsync(ct)).ToDictionary(g => g.GoalId, g => g.Grain, StringComparer.Ordinal);
        var errors = new ValidationErrors();
        var rule = AlertRule.Read(ruleId, body!.Root, id => goalGrains.TryGetValue(id, out var grain) ? grain : null, await derived.ResolverAsync(ct), errors);
        if (rule is null) return Problems.Validation(errors);
        var (created, version) = await rules.PutVersionedAsync(ruleId, rule, Security.ApiKeyAuthorization.ActorOf(request.HttpContext), condition, ct);
        VersionPreconditions.Tag(request, version);
        // A rule that watches something else now, or replaces a goal's default alert, leaves alerts nothing
        // watches: the periods they are open in are computed again by the next run, which resolves them.
        // Also after the same document again (a retry of a put whose marks were lost marks them then), and
        // not cancelled with the request: the rule is stored.
        using (Storage.Account.StorageAnswerLimit.Lifted()) await stale.MarkAsync(await alerts.PeriodsWithUnwatchedAlertsAsync(CancellationToken.None), CancellationToken.None);
        return created ? TypedResults.Created($"/api/alert-rules/{ruleId}", RuleDto.From(rule)) : TypedResults.Ok(RuleDto.From(rule));
    }

    /// <summary>What chooses the alerts listed (not the page size), hashed: the same for every page of one listing.</summary>
    private static string QueryFingerprint(DateTimeOffset? since, Period? period, string? severity, string? kind, string? state) =>
        PageTokens.Fingerprint(PageTokens.Part(since), period is null ? null : Grains.Key(period.Grain) + "|" + period.Key, severity, kind, state);

    /// <summary>
    /// The CloudEvent with its <c>state</c>: an alert is <c>open</c> until a recovery resolves it
    /// (<c>resolved</c>, <c>resolvedBy</c> the recovery's id); a recovery is itself <c>resolved</c>
    /// (<c>data.resolves</c> names what it closed).
    /// </summary>
    public static JsonObject WithState(RecordedAlert alert)
    {
        var item = (JsonObject)alert.CloudEvent.DeepClone();
        item["state"] = alert.State;
        item["resolvedBy"] = alert.ResolvedBy;
        return item;
    }

    private async Task<IResult> ListAsync(HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var since = q.Instant("since");
        var period = q.Period("period", q.Grain());
        if (request.Query.ContainsKey("grain") && !request.Query.ContainsKey("period") && !q.Errors.Has("grain"))
            q.Errors.Add("period", "is required with grain (a period key such as 2026-11)");
        var severity = q.OneOf("severity", ["info", "warning", "critical"]);
        var kind = q.OneOf("kind", [.. AlertKinds.All, AlertKinds.NoData, AlertKinds.Resolved]);
        var state = q.OneOf("state", ["open", "resolved"]);
        var pageSize = q.Int("pageSize", 100, 1, 1000);
        // A token carries its query's filters, hashed: sent with other filters it would skip alerts silently
        // (tokens given out before it did are taken as they are).
        var query = QueryFingerprint(since, period, severity, kind, state);
        var token = q.Raw("continuationToken");
        if (token is { Length: > 17 } && token[16] == '~' && token[..16].All(char.IsAsciiHexDigitLower))
        {
            if (q.Errors.IsEmpty && token[..16] != query)
                q.Errors.Add("continuationToken", "was given for another query: send it with the since, period, grain, severity, kind and state it came with, or start again without it");
            token = token[17..];
        }
        if (token is not null && (token.Length > 200 || token.Any(char.IsControl) || !AlertLedger.IsContinuation(token)))
            q.Errors.Add("continuationToken", "is not a token this API gave out; start again without it");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);
        try
        {
            var about = Matching(period is null ? null : Grains.Key(period.Grain), period?.Key, severity, kind, state);
            // Alerts about a period are raised when a run computes it, which is never before it starts: the
            // log is read back to the period's start, not to its oldest alert.
            if (period is not null && (since is null || since < period.Start)) since = period.Start;
            var (alerts, next) = await ledger.ListAsync(since, pageSize, token, ct, about);
            return TypedResults.Ok(new AlertsResponse(alerts.Select(WithState).ToList(), next is null ? null : query + "~" + next));
        }
        catch (Azure.RequestFailedException e) when (e.Status == 400 && token is not null)
        {
            return Problems.Validation("continuationToken", "is not a token this API gave out");
        }
    }

    /// <summary>
    /// The alerts the filters ask for: alerts only (the daily digest, recorded in the same log, is no
    /// alert and has no state), about a period (their data names its grain and key), of a severity, of
    /// a kind, open or resolved (as listed).
    /// </summary>
    private static Func<RecordedAlert, bool> Matching(string? grain, string? period, string? severity, string? kind, string? state)
    {
        static string? Text(JsonObject? node, string member) =>
            node?[member] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;
        return alert =>
        {
            var data = alert.CloudEvent["data"] as JsonObject;
            return alert.State is not null
                && (period is null || Text(data, "grain") == grain && Text(data, "period") == period)
                && (severity is null || Text(data, "severity") == severity)
                && (kind is null || Text(data, "kind") == kind)
                && (state is null || alert.State == state);
        };
    }
}
