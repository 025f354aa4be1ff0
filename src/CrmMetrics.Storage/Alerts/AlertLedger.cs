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
public sealed record RecordedAlert(string Id, DateTimeOffset RaisedAt, JsonObject CloudEvent)
{
    /// <summary>The id of the <c>resolved</c> alert that closed this one; null while it is open (and for messages that are not alerts).</summary>
    public string? ResolvedBy { get; init; }

    /// <summary>
    /// <c>open</c> until a recovery resolves it, then <c>resolved</c>; a recovery is itself
    /// <c>resolved</c>; null for a message that is not an alert (the digest).
    /// </summary>
    public string? State
    {
        get
        {
            var type = CloudEvent["type"] is JsonValue t && t.GetValueKind() == System.Text.Json.JsonValueKind.String ? t.GetValue<string>() : "";
            if (type == "crm.metrics.alert." + Domain.Alerts.AlertKinds.Resolved) return "resolved";
            if (type.StartsWith("crm.metrics.alert.", StringComparison.Ordinal)) return ResolvedBy is null ? "open" : "resolved";
            return null;
        }
    }
}

/// <summary>What the ledger decided about an alert, and the CloudEvent to send unless it is <see cref="AlertDecision.Suppress"/>: the caller's when raised, the one claimed first when resent.</summary>
public readonly record struct AlertClaim(AlertDecision Decision, JsonObject? Event);

/// <summary>An alert of a period that no recovery has resolved yet.</summary>
public sealed record OpenAlert(string Id, string ConditionKey, JsonObject CloudEvent);

/// <summary>
/// Every alert sent, so that a persisting condition raises nothing twice and a crash-and-retry sends
/// nothing already sent: one row per alert id (the claim), one per condition (its worst severity so
/// far), a log ordered newest first for <c>GET /api/alerts</c>, and per period the alerts still open, so
/// that a later computation of the period can resolve those whose condition no longer holds.
/// </summary>
public sealed class AlertLedger(StorageAccount account)
{
    private const string AlertPartition = "alert";
    private const string ConditionPartition = "condition";
    private const string LogPartition = "log";
    // "<invocation>|<alert id>": what each delivery claimed, so its retry can resend it even when
    // the period was completed meanwhile by another delivery (which stayed quiet about it).
    internal const string InvocationPartition = "by-invocation";
    // "open|<period>": the alerts raised for a period, marked when a recovery resolves them.
    private const string OpenPrefix = "open|";
    // The first key after every "open|…" one ('}' follows '|').
    private const string OpenPrefixEnd = "open}";
    private readonly TableClient _table = account.Table(StorageNames.Tables.Alerts);

    /// <summary>
    /// Decides whether an alert is raised, and claims it if so. <paramref name="invocation"/> names
    /// the delivery (the queue message id) so that a retry of the same delivery resends what it raised.
    /// </summary>
    public Task<AlertDecision> ClaimAsync(string alertId, string conditionKey, int severity, string invocation, JsonObject cloudEvent, DateTimeOffset raisedAt, CancellationToken ct) =>
        ClaimAsync(alertId, conditionKey, severity, invocation, cloudEvent, raisedAt, openIn: null, ct);

    /// <param name="openIn">The period (any stable key) the alert belongs to; when given, the alert is kept open there until <see cref="MarkResolvedAsync"/>.</param>
    public async Task<AlertDecision> ClaimAsync(string alertId, string conditionKey, int severity, string invocation, JsonObject cloudEvent, DateTimeOffset raisedAt,
        string? openIn, CancellationToken ct) =>
        (await ClaimToSendAsync(alertId, conditionKey, severity, invocation, cloudEvent, raisedAt, openIn, ct)).Decision;

    /// <summary>As <see cref="ClaimAsync(string, string, int, string, JsonObject, DateTimeOffset, string?, CancellationToken)"/>, with the event to send: a resend carries what was claimed first, as the alert log shows it.</summary>
    public async Task<AlertClaim> ClaimToSendAsync(string alertId, string conditionKey, int severity, string invocation, JsonObject cloudEvent, DateTimeOffset raisedAt,
        string? openIn, CancellationToken ct)
    {
        // A condition back after its alert was resolved is its next occurrence, under the relapse id
        // (each resolved occurrence leads to the next); its claim, open entry and log row are its own.
        // A retry of the delivery that claimed a resolved one is not a relapse: it resends what it claimed.
        // The claim read last is the first pass's below.
        NullableResponse<TableEntity> read;
        for (var occurrence = 0; ; occurrence++)
        {
            read = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
            if (!read.HasValue || read.Value!.GetString("ResolvedBy") is null || read.Value.GetString("EmittedBy") == invocation) break;
            if (occurrence == MaxOccurrences) return new AlertClaim(AlertDecision.Suppress, null);
            alertId = Domain.Alerts.Alert.RelapseIdOf(alertId);
            cloudEvent = (JsonObject)cloudEvent.DeepClone();
            cloudEvent["id"] = alertId;
        }
        // Each pass reads what is there and acts on it; a write that finds the ledger changed since it
        // read (another delivery claiming or taking over the same alert) sends it round again.
        for (var pass = 0; pass < MaxClaimPasses; pass++)
        {
            var existing = pass == 0 ? read : await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
            if (existing.HasValue)
            {
                var claim = existing.Value!;
                var hold = await HoldAsync(claim, invocation, raisedAt, ct);
                if (hold == Hold.Quiet) return new AlertClaim(AlertDecision.Suppress, null);
                if (hold == Hold.Raced) continue;
                // What was claimed, not what the caller built now: a digest built again differs (its window moved),
                // and a longer or shorter document merged over the log row could leave a stale part behind.
                var claimedEvent = StorageJson.Read<JsonObject>(claim, "Event") ?? cloudEvent;
                if (claim.GetString("ResolvedBy") is { } resolvedBy)
                {
                    // This delivery's own claim, resolved since by a later computation (its retry, unconfirmed):
                    // sent again as claimed, logged as resolved, but neither open again nor its condition's
                    // severity in force (found in review: that silenced the condition's later relapses).
                    await LogAsync(alertId, claim.GetDateTimeOffset("RaisedAt") ?? raisedAt, claimedEvent, resolvedBy, ct);
                    return new AlertClaim(AlertDecision.Resend, claimedEvent);
                }
                if (openIn is not null) await TrackOpenAsync(openIn, alertId, conditionKey, cloudEvent, ct);
                await CompleteAsync(alertId, conditionKey, severity, claim.GetDateTimeOffset("RaisedAt") ?? raisedAt, claimedEvent, ct);
                return new AlertClaim(AlertDecision.Resend, claimedEvent);
            }
            var condition = await _table.GetEntityIfExistsAsync<TableEntity>(ConditionPartition, conditionKey, cancellationToken: ct);
            if (condition.HasValue && (condition.Value!.GetInt32("MaxSeverity") ?? -1) >= severity)
            {
                // This very alert, claimed by another delivery since this one looked: look at its claim.
                if (condition.Value.GetString("LastAlertId") == alertId) continue;
                return new AlertClaim(AlertDecision.Suppress, null);
            }

            // Tracked before the claim: if another delivery claims the same id first, it is the same alert.
            if (openIn is not null) await TrackOpenAsync(openIn, alertId, conditionKey, cloudEvent, ct);

            // The index entry goes first: a crash after the claim then still leaves it findable.
            // What is sent again is the claim's event (see ClaimedByAsync); the entry carries one only for
            // instances of earlier versions during a rolling deployment, which read it from here.
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
                // A concurrent delivery claimed it first: the next pass decides between quiet and a takeover.
                // The index entry stays: readers check the claim's holder, and with two attempts of one
                // delivery at once (two firings of a day's digest) it is the winner's entry too.
                continue;
            }
            await CompleteAsync(alertId, conditionKey, severity, raisedAt, cloudEvent, ct);
            return new AlertClaim(AlertDecision.Raise, cloudEvent);
        }
        throw new InvalidOperationException($"Alert {alertId} is being claimed by several deliveries at once; retrying later.");
    }

    /// <summary>How many times a claim reads the ledger again after another delivery changed it first.</summary>
    private const int MaxClaimPasses = 8;

    /// <summary>How many times one condition may come back in a period and still be said (a figure that swings every run stops alerting after this).</summary>
    private const int MaxOccurrences = 20;

    /// <summary>
    /// How long after an alert was first claimed another delivery may take the claim over. A takeover
    /// sends the alert again, so it stays well inside the broker's duplicate detection window (a day by
    /// default): a delivery that died is retried once its queue lease runs out, minutes later. A claim
    /// older than this and never confirmed (a period that failed for good, a done message lost) is left
    /// as it is: whether it went out is unknown, and a second copy would reach executives.
    /// </summary>
    public static readonly TimeSpan TakeoverWindow = TimeSpan.FromHours(1);

    private enum Hold { Quiet, Held, Raced }

    /// <summary>
    /// Whether this delivery is to send a claimed alert: its own claim unless its period's done
    /// message confirmed it went out (a retry of the delivery that raised it), or another's taken over.
    /// </summary>
    private async Task<Hold> HoldAsync(TableEntity claim, string invocation, DateTimeOffset now, CancellationToken ct)
    {
        if (claim.GetString("EmittedBy") != invocation) return await TakeOverAsync(claim, invocation, now, ct);
        return await DeliveredAsync(invocation, claim.RowKey, ct) == true ? Hold.Quiet : Hold.Held;
    }

    /// <summary>Whether the delivery's done message confirmed this alert went out; null when the delivery has no index entry for it.</summary>
    private async Task<bool?> DeliveredAsync(string invocation, string alertId, CancellationToken ct)
    {
        var entry = await _table.GetEntityIfExistsAsync<TableEntity>(InvocationPartition, InvocationKey(invocation, alertId), ["Delivered"], ct);
        return entry.HasValue ? entry.Value!.GetBoolean("Delivered") == true : null;
    }

    /// <summary>
    /// An alert another delivery claimed (a second delivery of the same period's job, or a later run
    /// of the period): quiet when that delivery is confirmed out, or claimed it longer ago than
    /// <see cref="TakeoverWindow"/>. Otherwise it may have died between its claim and its send, and
    /// its retry comes only when its queue lease runs out, after this delivery has completed the
    /// period; so this one takes the claim over and sends it too (the broker, or the local sender's
    /// ledger, drops a second copy by id).
    /// </summary>
    private async Task<Hold> TakeOverAsync(TableEntity claim, string invocation, DateTimeOffset now, CancellationToken ct)
    {
        var claimant = claim.GetString("EmittedBy");
        if (claimant is null || claim.GetDateTimeOffset("RaisedAt") is not { } raisedAt || now - raisedAt > TakeoverWindow) return Hold.Quiet;
        // A claim without an index entry predates the index: treated as out.
        if (await DeliveredAsync(claimant, claim.RowKey, ct) is not false) return Hold.Quiet;
        // The index entry first, as for a new claim: a crash after the takeover leaves it findable by this delivery's retry.
        var mine = new TableEntity(InvocationPartition, InvocationKey(invocation, claim.RowKey));
        StorageJson.Write(mine, "Event", StorageJson.Read<JsonObject>(claim, "Event")); // for earlier versions, as above
        await _table.UpsertEntityAsync(mine, TableUpdateMode.Replace, ct);
        try
        {
            // Only the claimant changes: the event and when it was raised stay the first delivery's.
            await _table.UpdateEntityAsync(new TableEntity(AlertPartition, claim.RowKey) { ["EmittedBy"] = invocation }, claim.ETag, TableUpdateMode.Merge, ct);
            return Hold.Held;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            // Changed since it was read (taken over by a third delivery, or marked resolved): read it again.
            return Hold.Raced;
        }
    }

    /// <summary>
    /// The event of an alert this delivery must send although it did not raise it now: a recovery
    /// claimed and recorded (so the alert it resolves is no longer open to be met) without being
    /// confirmed sent, by a rival delivery of the period (taken over as <see cref="ClaimAsync(string, string, int, string, JsonObject, DateTimeOffset, string?, CancellationToken)"/>
    /// takes over an alert) or by an earlier attempt of this same delivery that died before sending
    /// it. Null when it is confirmed out, or too old.
    /// </summary>
    public async Task<JsonObject?> TakeOverUnconfirmedAsync(string alertId, string invocation, DateTimeOffset now, CancellationToken ct)
    {
        for (var pass = 0; pass < MaxClaimPasses; pass++)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
            if (!existing.HasValue) return null;
            switch (await HoldAsync(existing.Value!, invocation, now, ct))
            {
                case Hold.Quiet: return null;
                case Hold.Held: return StorageJson.Read<JsonObject>(existing.Value!, "Event");
            }
        }
        throw new InvalidOperationException($"Alert {alertId} is being taken over by several deliveries at once; retrying later.");
    }

    /// <summary>
    /// The recoveries of a period's alerts recorded within <see cref="TakeoverWindow"/> (by the
    /// storage's own clock), each with the alert it resolved: those a rival delivery may not have sent yet.
    /// </summary>
    public async Task<IReadOnlyList<(string AlertId, string ResolvedBy)>> RecentlyResolvedAsync(string openIn, CancellationToken ct)
    {
        var since = DateTimeOffset.UtcNow - TakeoverWindow;
        var resolved = new List<(string, string)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {OpenPartition(openIn)} and Timestamp ge {since}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey", "ResolvedBy"], cancellationToken: ct))
            if (row.GetString("ResolvedBy") is { } by) resolved.Add((row.RowKey, by));
        return resolved;
    }

    /// <summary>Merged, never replaced: a resolution recorded meanwhile stays.</summary>
    private async Task TrackOpenAsync(string openIn, string alertId, string conditionKey, JsonObject cloudEvent, CancellationToken ct)
    {
        var row = new TableEntity(OpenPartition(openIn), alertId) { ["ConditionKey"] = conditionKey };
        StorageJson.Write(row, "Event", cloudEvent);
        await _table.UpsertEntityAsync(row, TableUpdateMode.Merge, ct);
    }

    /// <summary>The alerts of a period that are still open, oldest id order.</summary>
    public async Task<IReadOnlyList<OpenAlert>> OpenAsync(string openIn, CancellationToken ct)
    {
        var open = new List<OpenAlert>();
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {OpenPartition(openIn)}"), cancellationToken: ct))
        {
            if (row.GetString("ResolvedBy") is not null || row.GetString("ConditionKey") is not { } conditionKey) continue;
            if (StorageJson.Read<JsonObject>(row, "Event") is { } e) open.Add(new OpenAlert(row.RowKey, conditionKey, e));
        }
        return open;
    }

    /// <summary>
    /// The periods (as given to <see cref="ClaimAsync(string, string, int, string, JsonObject, DateTimeOffset, string?, CancellationToken)"/>'s
    /// <c>openIn</c>) holding an open alert that <paramref name="matches"/> (given the period and the alert as <see cref="OpenAsync"/> reads it): where a
    /// changed or deleted rule or goal left alerts that only a computation of their period resolves.
    /// Entries stay when resolved (their state is a column), so the periods still holding an open one are
    /// found first from the state columns alone, and only their alerts are read whole (found in review:
    /// reading every alert ever raised with its event held every definition change up).
    /// </summary>
    public async Task<IReadOnlyList<string>> PeriodsWithOpenAlertsAsync(Func<string, OpenAlert, bool> matches, CancellationToken ct)
    {
        var holding = new SortedSet<string>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey gt {OpenPrefix} and PartitionKey lt {OpenPrefixEnd}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "ResolvedBy", "ConditionKey"], cancellationToken: ct))
        {
            if (row.GetString("ResolvedBy") is null && row.GetString("ConditionKey") is not null) holding.Add(row.PartitionKey);
        }
        var periods = new List<string>();
        foreach (var openIn in holding.Select(OpenIn))
        {
            if ((await OpenAsync(openIn, ct)).Any(open => matches(openIn, open))) periods.Add(openIn);
        }
        return periods;
    }

    /// <summary>
    /// Records that <paramref name="alertId"/> was resolved by <paramref name="resolvedBy"/>: on its open
    /// entry, its claim and its log row (what <c>GET /api/alerts</c> shows). Idempotent.
    /// </summary>
    public async Task MarkResolvedAsync(string openIn, string alertId, string resolvedBy, CancellationToken ct)
    {
        async Task Merge(string partition, string rowKey)
        {
            try
            {
                await _table.UpdateEntityAsync(new TableEntity(partition, rowKey) { ["ResolvedBy"] = resolvedBy }, ETag.All, TableUpdateMode.Merge, ct);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
            }
        }
        var claim = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, cancellationToken: ct);
        if (claim.HasValue && claim.Value!.GetDateTimeOffset("RaisedAt") is { } raisedAt) await Merge(LogPartition, LogKey(raisedAt, alertId));
        await Merge(AlertPartition, alertId);
        // Forgotten before the alert stops being open: a retry after a crash in between meets it open again, and forgets then.
        var open = await _table.GetEntityIfExistsAsync<TableEntity>(OpenPartition(openIn), alertId, ["ConditionKey"], ct);
        if (open.HasValue && open.Value!.GetString("ConditionKey") is { } conditionKey) await ForgetWorstSeverityAsync(conditionKey, alertId, ct);
        await Merge(OpenPartition(openIn), alertId);
    }

    /// <summary>
    /// Once the alert that set its condition's worst severity is resolved, the condition has no severity
    /// in force: if it comes back, at a milder severity never raised for the period, that is said (found
    /// by probing: a goal critical at risk, back on track, then at risk again at warning level raised
    /// nothing). The same severity again is said too, as the alert's next occurrence (<see cref="Domain.Alerts.Alert.RelapseIdOf"/>).
    /// </summary>
    private async Task ForgetWorstSeverityAsync(string conditionKey, string alertId, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(ConditionPartition, conditionKey, cancellationToken: ct);
        if (!row.HasValue || row.Value!.GetString("LastAlertId") != alertId) return;
        try
        {
            await _table.DeleteEntityAsync(ConditionPartition, conditionKey, row.Value.ETag, ct);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Gone already, or a worse severity raised since: that one is in force.
        }
    }

    private static string OpenPartition(string openIn) => OpenPrefix + StorageKeys.Encode(openIn);
    private static string OpenIn(string openPartition) => StorageKeys.Decode(openPartition[OpenPrefix.Length..]);

    /// <summary>The alert's row in the log <c>GET /api/alerts</c> reads; merged, so a retry never erases a resolution recorded meanwhile.</summary>
    private async Task LogAsync(string alertId, DateTimeOffset raisedAt, JsonObject cloudEvent, string? resolvedBy, CancellationToken ct)
    {
        var log = new TableEntity(LogPartition, LogKey(raisedAt, alertId)) { ["AlertId"] = alertId, ["RaisedAt"] = raisedAt };
        if (resolvedBy is not null) log["ResolvedBy"] = resolvedBy;
        StorageJson.Write(log, "Event", cloudEvent);
        await _table.UpsertEntityAsync(log, TableUpdateMode.Merge, ct);
    }

    /// <summary>The log row and the condition's worst severity; idempotent, so a retry can repeat it.</summary>
    private async Task CompleteAsync(string alertId, string conditionKey, int severity, DateTimeOffset raisedAt, JsonObject cloudEvent, CancellationToken ct)
    {
        await LogAsync(alertId, raisedAt, cloudEvent, resolvedBy: null, ct);
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
        throw new ConcurrentChangeException($"The condition {conditionKey} kept changing concurrently; alert {alertId} is logged but its condition not updated (20 attempts).");
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
            // The claim's event, not the index entry's copy: the losing one of two attempts of a delivery at
            // once (two firings of a day's digest) rewrites the shared entry with what it built.
            if (claim.HasValue && claim.Value!.GetString("EmittedBy") == invocation && StorageJson.Read<JsonObject>(claim.Value, "Event") is { } e) events.Add(e);
        }
        return events;
    }

    /// <summary>When the alert with this id was claimed, or null when it never was.</summary>
    public async Task<DateTimeOffset?> ClaimedAtAsync(string alertId, CancellationToken ct)
    {
        var claim = await _table.GetEntityIfExistsAsync<TableEntity>(AlertPartition, alertId, ["RaisedAt"], ct);
        return claim.HasValue ? claim.Value!.GetDateTimeOffset("RaisedAt") : null;
    }

    /// <summary>The alert with this id as <see cref="ListAsync"/> lists it, or null when none was recorded: two point reads.</summary>
    public async Task<RecordedAlert?> FindAsync(string alertId, CancellationToken ct)
    {
        if (await ClaimedAtAsync(alertId, ct) is not { } raisedAt) return null;
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(LogPartition, LogKey(raisedAt, alertId), cancellationToken: ct);
        return row.HasValue ? Recorded(row.Value!) : null;
    }

    /// <summary>An alert as its log row records it.</summary>
    private static RecordedAlert Recorded(TableEntity row) =>
        new(row.GetString("AlertId")!, row.GetDateTimeOffset("RaisedAt") ?? default, StorageJson.Read<JsonObject>(row, "Event") ?? []) { ResolvedBy = row.GetString("ResolvedBy") };

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
        return _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {InvocationPartition} and RowKey ge {prefix} and RowKey lt {upper}"),
            select: ["RowKey", "Delivered"], cancellationToken: ct);
    }

    internal static string InvocationKey(string invocation, string alertId) => $"{StorageKeys.Encode(invocation)}|{alertId}";

    /// <summary>
    /// Alerts raised at or after <paramref name="since"/>, newest first, one page of at most
    /// <paramref name="pageSize"/>. The continuation is this API's own (the last row's key), not the
    /// storage service's, whose form differs between Azure and the emulator: check one received from
    /// a client with <see cref="IsContinuation"/>.
    /// </summary>
    /// <param name="about">When given, only the alerts whose CloudEvent it accepts (the rows between are read and passed over).</param>
    public async Task<(IReadOnlyList<RecordedAlert> Alerts, string? Continuation)> ListAsync(DateTimeOffset? since, int pageSize, string? continuation, CancellationToken ct,
        Func<RecordedAlert, bool>? about = null)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LogPartition}");
        if (since is { } s) filter += " and " + TableClient.CreateQueryFilter($"RowKey le {LogKey(s, "~")}");
        if (continuation is not null)
            filter += " and " + TableClient.CreateQueryFilter($"RowKey gt {AfterKey(continuation) ?? throw new ArgumentException("Not a continuation this ledger gave out.", nameof(continuation))}");
        // One row beyond the page tells whether another page follows.
        var rows = new List<(TableEntity Row, RecordedAlert Alert)>(pageSize + 1);
        var scanned = 0;
        string? lastScanned = null;
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: about is null ? Math.Min(pageSize + 1, 1000) : 1000, cancellationToken: ct))
        {
            var alert = Recorded(row);
            lastScanned = row.RowKey;
            if (about is not null && !about(alert))
            {
                // A filter few alerts match must not read the whole log in one request: the page ends
                // short, and its token goes on after the last row read.
                if (++scanned >= MaxScannedPerPage) return (rows.Select(r => r.Alert).ToList(), ContinuationAfter(lastScanned));
                continue;
            }
            scanned++;
            rows.Add((row, alert));
            if (rows.Count > pageSize) break;
        }
        var alerts = rows.Take(pageSize).Select(r => r.Alert).ToList();
        // The next page starts after the last alert of this one: rows passed over before the next match are passed over again.
        return (alerts, rows.Count > pageSize ? ContinuationAfter(rows[pageSize - 1].Row.RowKey) : null);
    }

    private const string ContinuationPrefix = "a1.";

    /// <summary>The most log rows a filtered page reads before it ends (short, with a token).</summary>
    public const int MaxScannedPerPage = 5000;

    private static string ContinuationAfter(string rowKey) =>
        ContinuationPrefix + System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(rowKey));

    /// <summary>The log key a continuation resumes after, or null when the text is not one <see cref="ListAsync"/> gave out.</summary>
    private static string? AfterKey(string continuation)
    {
        if (!continuation.StartsWith(ContinuationPrefix, StringComparison.Ordinal) || continuation.Length > 400) return null;
        string key;
        try
        {
            key = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(System.Buffers.Text.Base64Url.DecodeFromChars(continuation.AsSpan(ContinuationPrefix.Length)));
        }
        catch (Exception e) when (e is FormatException or System.Text.DecoderFallbackException)
        {
            return null;
        }
        return key.Length > 20 && key[19] == '-' && !key.AsSpan(0, 19).ContainsAnyExceptInRange('0', '9') && !key.Any(char.IsControl) ? key : null;
    }

    /// <summary>Whether a continuation is one <see cref="ListAsync"/> gave out (any other text would silently start a page elsewhere).</summary>
    public static bool IsContinuation(string continuation) => AfterKey(continuation) is not null;

    // Inverted ticks: newer alerts sort first.
    private static string LogKey(DateTimeOffset at, string alertId) => $"{DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks:D19}-{alertId}";
}
