using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Alerts;

/// <summary>What the ledger says about an alert about to be raised.</summary>
public enum AlertDecision
{
    /// <summary>Never raised: record it and send it.</summary>
    Raise,

    /// <summary>Raised by this same invocation before (a retry): send it again; the broker's duplicate detection drops a second copy.</summary>
    Resend,

    /// <summary>Raised already (same condition, period, and this or a worse severity): stay quiet.</summary>
    Suppress,
}

/// <summary>One alert as recorded: its CloudEvent, when it was raised and by which invocation.</summary>
public sealed record RecordedAlert(string Id, DateTimeOffset RaisedAt, JsonObject CloudEvent);

/// <summary>
/// Every alert sent, so that a persisting condition raises nothing twice and a crash-and-retry sends
/// nothing already sent: one row per alert id (the claim), one per condition (its worst severity so
/// far), and a log ordered newest first for <c>GET /api/alerts</c>.
/// </summary>
public sealed class AlertLedger(StorageAccount account)
{
    private const string AlertPartition = "alert";
    private const string ConditionPartition = "condition";
    private const string LogPartition = "log";
    // "<invocation>|<alert id>": what each delivery claimed, so its retry can resend it even when
    // the period was completed meanwhile by another delivery (which stayed quiet about it).
    private const string InvocationPartition = "by-invocation";
    private readonly TableClient _table = account.Table(StorageNames.Tables.Alerts);

    /// <summary>
    /// Decides whether an alert is raised, and claims it if so. <paramref name="invocation"/> names
    /// the delivery (the queue message id) so that a retry of the same delivery resends what it raised.
    /// </summary>
    public async Task<AlertDecision> ClaimAsync(string alertId, string conditionKey, int severity, string invocation, JsonObject cloudEvent, DateTimeOffset raisedAt, CancellationToken ct)
    {
        var existing = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
        if (existing.HasValue)
        {
            if (existing.Value!.GetString("EmittedBy") != invocation) return AlertDecision.Suppress;
            // A retry of the delivery that raised it: quiet if its period's done message confirmed it went out.
            var claimed = await _table.GetEntityIfExistsAsync<TableEntity>(InvocationPartition, InvocationKey(invocation, alertId), cancellationToken: ct);
            if (claimed.HasValue && claimed.Value!.GetBoolean("Delivered") == true) return AlertDecision.Suppress;
            await CompleteAsync(alertId, conditionKey, severity, existing.Value.GetDateTimeOffset("RaisedAt") ?? raisedAt, cloudEvent, ct);
            return AlertDecision.Resend;
        }
        var condition = await _table.GetEntityIfExistsAsync<TableEntity>(ConditionPartition, conditionKey, cancellationToken: ct);
        if (condition.HasValue && (condition.Value!.GetInt32("MaxSeverity") ?? -1) >= severity) return AlertDecision.Suppress;

        // The index entry goes first: a crash after the claim then still leaves it findable.
        var mine = new TableEntity(InvocationPartition, InvocationKey(invocation, alertId));
        StorageJson.Write(mine, "Event", cloudEvent);
        await _table.UpsertEntityAsync(mine, TableUpdateMode.Replace, ct);
        try
        {
            var claim = new TableEntity(AlertPartition, alertId) { ["EmittedBy"] = invocation, ["RaisedAt"] = raisedAt };
            StorageJson.Write(claim, "Event", cloudEvent);
            await _table.AddEntityAsync(claim, ct);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // A concurrent finalisation of the same period raised it.
            await _table.DeleteEntityAsync(InvocationPartition, mine.RowKey, ETag.All, CancellationToken.None);
            return AlertDecision.Suppress;
        }
        await CompleteAsync(alertId, conditionKey, severity, raisedAt, cloudEvent, ct);
        return AlertDecision.Raise;
    }

    /// <summary>The log row and the condition's worst severity; idempotent, so a retry can repeat it.</summary>
    private async Task CompleteAsync(string alertId, string conditionKey, int severity, DateTimeOffset raisedAt, JsonObject cloudEvent, CancellationToken ct)
    {
        var log = new TableEntity(LogPartition, LogKey(raisedAt, alertId)) { ["AlertId"] = alertId, ["RaisedAt"] = raisedAt };
        StorageJson.Write(log, "Event", cloudEvent);
        await _table.UpsertEntityAsync(log, TableUpdateMode.Replace, ct);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(ConditionPartition, conditionKey, cancellationToken: ct);
            if (row.HasValue && (row.Value!.GetInt32("MaxSeverity") ?? -1) >= severity) return;
            var entity = new TableEntity(ConditionPartition, conditionKey) { ["MaxSeverity"] = severity, ["LastAlertId"] = alertId };
            try
            {
                if (row.HasValue) await _table.UpdateEntityAsync(entity, row.Value!.ETag, TableUpdateMode.Replace, ct);
                else await _table.AddEntityAsync(entity, ct);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
            }
        }
    }

    /// <summary>
    /// The CloudEvents of the alerts this delivery claimed and that are not known to be delivered:
    /// what its retry must send again when it finds its period completed or superseded and so
    /// raises nothing itself.
    /// </summary>
    public async Task<IReadOnlyList<JsonObject>> ClaimedByAsync(string invocation, CancellationToken ct)
    {
        var prefix = StorageKeys.Encode(invocation) + "|";
        var events = new List<JsonObject>();
        await foreach (var row in ClaimsOfAsync(invocation, ct))
        {
            if (row.GetBoolean("Delivered") == true) continue;
            var alertId = row.RowKey[prefix.Length..];
            var claim = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
            if (claim.HasValue && claim.Value!.GetString("EmittedBy") == invocation && StorageJson.Read<JsonObject>(row, "Event") is { } e) events.Add(e);
        }
        return events;
    }

    /// <summary>Records that what this delivery claimed went out (its period's done message was read after its alerts).</summary>
    public async Task MarkDeliveredAsync(string invocation, CancellationToken ct)
    {
        await foreach (var row in ClaimsOfAsync(invocation, ct))
        {
            await _table.UpsertEntityAsync(new TableEntity(InvocationPartition, row.RowKey) { ["Delivered"] = true }, TableUpdateMode.Merge, ct);
        }
    }

    private IAsyncEnumerable<TableEntity> ClaimsOfAsync(string invocation, CancellationToken ct)
    {
        var prefix = StorageKeys.Encode(invocation) + "|";
        var upper = StorageKeys.Encode(invocation) + "}"; // '}' sorts right after '|'
        return _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {InvocationPartition} and RowKey ge {prefix} and RowKey lt {upper}"), cancellationToken: ct);
    }

    private static string InvocationKey(string invocation, string alertId) => $"{StorageKeys.Encode(invocation)}|{alertId}";

    /// <summary>Alerts raised at or after <paramref name="since"/>, newest first, one page.</summary>
    public async Task<(IReadOnlyList<RecordedAlert> Alerts, string? Continuation)> ListAsync(DateTimeOffset? since, int pageSize, string? continuation, CancellationToken ct)
    {
        var filter = since is { } s
            ? TableClient.CreateQueryFilter($"PartitionKey eq {LogPartition} and RowKey le {LogKey(s, "~")}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {LogPartition}");
        var page = await _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: ct).AsPages(continuation, pageSize).FirstAsync(ct);
        var alerts = page.Values
            .Select(e => new RecordedAlert(e.GetString("AlertId")!, e.GetDateTimeOffset("RaisedAt") ?? default, StorageJson.Read<JsonObject>(e, "Event") ?? []))
            .ToList();
        return (alerts, page.ContinuationToken);
    }

    // Inverted ticks: newer alerts sort first.
    private static string LogKey(DateTimeOffset at, string alertId) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}-{alertId}";
}
