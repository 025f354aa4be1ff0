using System.Text.Json.Nodes;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Storage.Settings;
using Microsoft.Azure.Functions.Worker;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// <c>GET /api/audit</c> (admin): every change to what decides what people are paid and told —
/// goals, incentive plans, alert rules, derived indicators — newest first: who (the key's name and
/// role), when, the version, and the document before and after. Filters <c>kind</c>, <c>id</c>,
/// <c>actor</c>, <c>since</c>, <c>until</c>; paged. The record is append-only: it is written in the
/// same transaction as each change and nothing in the API changes or deletes it.
/// </summary>
public sealed class AuditFunctions(GoalStore goals, IncentivePlanStore plans, AlertRuleStore rules, DerivedIndicatorStore indicators, CrmMetricsSettings settings)
{
    public const int MaxPageSize = 500;

    public sealed record AuditEntry(string Kind, string Id, int Version, string Action, DateTimeOffset At, string Actor, string Role, JsonNode? Before, JsonNode? After);
    public sealed record AuditResponse(IReadOnlyList<AuditEntry> Items, string? ContinuationToken);

    [Function("Audit")]
    [ApiOperation("GET", "GetAudit", Access.Admin, Query = ["kind", "id", "actor", "since", "until", "pageSize", "continuationToken"],
        Summary = "Every change to goals, incentive plans, alert rules and derived indicators, newest first: who, when, version, before and after; filters kind, id, actor, since, until; paged.",
        Response = typeof(AuditResponse), Problems = [400])]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/audit")] HttpRequest request, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var stores = new Dictionary<string, Func<CancellationToken, Task<IReadOnlyList<DocumentChange>>>>
        {
            [goals.Kind] = goals.HistoryAsync, [plans.Kind] = plans.HistoryAsync, [rules.Kind] = rules.HistoryAsync, [indicators.Kind] = indicators.HistoryAsync,
        };
        var kind = q.Raw("kind");
        if (kind is not null && !stores.ContainsKey(kind)) q.Errors.Add("kind", $"must be one of {string.Join(", ", stores.Keys)}");
        var id = q.Raw("id");
        var actor = q.Raw("actor");
        var since = q.Instant("since");
        var until = q.Instant("until");
        if (since is not null && until is not null && until < since) q.Errors.Add("until", "must not be before since");
        var pageSize = q.Int("pageSize", 100, 1, MaxPageSize);
        var query = Fingerprint(kind, id, actor, since, until);
        AuditCursor? cursor = null;
        if (q.Raw("continuationToken") is { } token)
        {
            if ((cursor = AuditCursor.TryDecode(token)) is null) q.Errors.Add("continuationToken", "is not a token this API gives out (those of an earlier version of the app are not read either); start again without it");
            else if (q.Errors.IsEmpty && cursor.Query != query)
                q.Errors.Add("continuationToken", "was given for another query: send it with the kind, id, actor, since and until it came with, or start again without it");
        }
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var changes = new List<DocumentChange>();
        foreach (var (name, history) in stores)
        {
            if (kind is null || kind == name) changes.AddRange(await history(ct));
        }
        var matching = changes
            .Where(c => (id is null || c.Id == id) && (actor is null || c.Actor.Name == actor) && (since is null || c.At >= since) && (until is null || c.At < until))
            .Order(Newest)
            // The page goes on after the last entry given, not after a count of entries: changes made
            // between two pages come before it, and would otherwise push entries given already onto the next page.
            .Where(c => cursor is null || Newest.Compare(c, cursor.Last) > 0)
            .Take(pageSize + 1)
            .ToList();
        var page = matching.Take(pageSize).Select(c => new AuditEntry(c.Kind, c.Id, c.Version, c.Action, c.At, c.Actor.Name, c.Actor.Role,
            AsSent(c.Kind, c.Before), AsSent(c.Kind, c.After))).ToList();
        var next = matching.Count > pageSize ? AuditCursor.After(query, matching[pageSize - 1]).Encode() : null;
        return TypedResults.Ok(new AuditResponse(page, next));
    }

    /// <summary>
    /// A recorded document in the shape its route takes it, so the trail shows a change as it was sent (found by probing:
    /// a plan sent with <c>measure: { "indicator" }</c> was shown as stored, <c>measureIndicator</c>). Goals, alert rules
    /// and derived indicators are stored in that shape already.
    /// </summary>
    private JsonNode? AsSent(string kind, JsonNode? recorded) => kind == plans.Kind ? IncentivesFunctions.PlanDto.AsSent(recorded) : recorded;

    /// <summary>Newest first; ties (one instant) in kind, id and newest version order, so every change has one place.</summary>
    private static readonly Comparer<DocumentChange> Newest = Comparer<DocumentChange>.Create((a, b) =>
    {
        var byTime = b.At.UtcTicks.CompareTo(a.At.UtcTicks);
        if (byTime != 0) return byTime;
        var byKind = string.CompareOrdinal(a.Kind, b.Kind);
        if (byKind != 0) return byKind;
        var byId = string.CompareOrdinal(a.Id, b.Id);
        return byId != 0 ? byId : b.Version.CompareTo(a.Version);
    });

    /// <summary>What chooses the entries (not the page size), hashed: the same for every page of one listing.</summary>
    private static string Fingerprint(string? kind, string? id, string? actor, DateTimeOffset? since, DateTimeOffset? until) =>
        PageTokens.Fingerprint(kind, id, actor, PageTokens.Part(since), PageTokens.Part(until));

    /// <summary>Where a listing goes on: after the last entry of the page before, for the query it came with.</summary>
    private sealed record AuditCursor(string Query, long At, string Kind, string Id, int Version)
    {
        public static AuditCursor After(string query, DocumentChange last) => new(query, last.At.UtcTicks, last.Kind, last.Id, last.Version);

        public DocumentChange Last => new(Kind, Id, Version, "", new DateTimeOffset(At, TimeSpan.Zero), new ChangeActor("", ""), null, null);

        public string Encode() => PageTokens.Encode(this);

        public static AuditCursor? TryDecode(string token) =>
            PageTokens.TryDecode<AuditCursor>(token) is { Query: not null, Kind: not null, Id: not null } cursor && cursor.At is >= 0 and <= 3155378975999999999 ? cursor : null;
    }
}
