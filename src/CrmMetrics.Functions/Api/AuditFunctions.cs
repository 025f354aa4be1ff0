using System.Text;
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
    [ApiOperation("GET", "GetAudit", Access.Admin,
        Summary = "Every change to goals, incentive plans, alert rules and derived indicators, newest first: who, when, version, before and after; filters kind, id, actor, since, until; paged.",
        Response = typeof(AuditResponse), Problems = [400])]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/audit")] HttpRequest request, CancellationToken ct)
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
        var offset = 0;
        if (q.Raw("continuationToken") is { } token && !TryReadToken(token, out offset)) q.Errors.Add("continuationToken", "is not a token this API gave out; start again without it");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var changes = new List<DocumentChange>();
        foreach (var (name, history) in stores)
        {
            if (kind is null || kind == name) changes.AddRange(await history(ct));
        }
        var matching = changes
            .Where(c => (id is null || c.Id == id) && (actor is null || c.Actor.Name == actor) && (since is null || c.At >= since) && (until is null || c.At < until))
            .OrderByDescending(c => c.At).ThenByDescending(c => c.Version)
            .ToList();
        var page = matching.Skip(offset).Take(pageSize)
            .Select(c => new AuditEntry(c.Kind, c.Id, c.Version, c.Action, c.At, c.Actor.Name, c.Actor.Role, c.Before, c.After)).ToList();
        var next = offset + page.Count < matching.Count ? Token(offset + page.Count) : null;
        return TypedResults.Ok(new AuditResponse(page, next));
    }

    private static string Token(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes("audit:" + offset));

    private static bool TryReadToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("audit:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
