using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

/// <summary>Who made a change: the API key's name and role.</summary>
public sealed record ChangeActor(string Name, string Role);

/// <summary>One recorded change of a document: what it was before and after, who made it and when.</summary>
public sealed record DocumentChange(string Kind, string Id, int Version, string Action, DateTimeOffset At, ChangeActor Actor, JsonNode? Before, JsonNode? After);

/// <summary>
/// Small documents an administrator defines (goals, incentive plans, alert rules, derived
/// indicators): one row each, in one partition per table, read whole when a period is finalised.
/// Every change is versioned and recorded append-only beside the document (who, when, before and
/// after), in the same transaction as the change itself, so the record can never miss a change or
/// show one that did not happen.
/// </summary>
public class DocumentStore<T>(StorageAccount account, string tableName, string kind) where T : class
{
    private const string Partition = "doc";
    // History rows sort after every document id (ids never contain '~').
    private const string HistoryPrefix = "~h~";
    private const int Attempts = 25;
    private static readonly JsonSerializerOptions Json = StorageJson.DocumentOptions;
    private readonly TableClient _table = account.Table(tableName);

    /// <summary>What the audit trail calls these documents (goal, incentive-plan, alert-rule, indicator).</summary>
    public string Kind => kind;

    public async Task<T?> GetAsync(string id, CancellationToken ct) => (await GetVersionedAsync(id, ct))?.Document;

    public async Task<(T Document, int Version)?> GetVersionedAsync(string id, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.Encode(id), cancellationToken: ct);
        return row.HasValue && StorageJson.Read<T>(row.Value!, "Doc", Json) is { } doc ? (doc, row.Value!.GetInt32("Version") ?? 1) : null;
    }

    public async Task<IReadOnlyList<T>> ListAsync(CancellationToken ct) => (await ListVersionedAsync(ct)).Select(d => d.Document).ToList();

    public async Task<IReadOnlyList<(T Document, int Version)>> ListVersionedAsync(CancellationToken ct)
    {
        var result = new List<(T, int)>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey lt {HistoryPrefix}"), cancellationToken: ct))
        {
            if (StorageJson.Read<T>(e, "Doc", Json) is { } doc) result.Add((doc, e.GetInt32("Version") ?? 1));
        }
        return result;
    }

    /// <summary>Stores the document as its next version, recording the change (the same document as stored is no change); true when it was created.</summary>
    public async Task<bool> PutAsync(string id, T document, ChangeActor actor, CancellationToken ct) =>
        (await PutVersionedAsync(id, document, actor, ct)).Created;

    public Task<(bool Created, int Version)> PutVersionedAsync(string id, T document, ChangeActor actor, CancellationToken ct) =>
        PutVersionedAsync(id, document, actor, VersionCondition.None, ct);

    /// <summary>
    /// Stores the document as its next version if the stored one meets <paramref name="condition"/>
    /// (judged on the row the write replaces); otherwise throws <see cref="VersionConditionFailedException"/>, having written nothing.
    /// </summary>
    /// <param name="beforeChange">
    /// Called once the write is known to change the stored document, before it is written:
    /// for what must be recorded whenever the document changes (the periods it affects, marked stale), since a caller
    /// that dies after the write, retried, finds the same document stored and sees no change (found by a review).
    /// </param>
    public async Task<(bool Created, int Version)> PutVersionedAsync(string id, T document, ChangeActor actor, VersionCondition condition, CancellationToken ct,
        Func<Task>? beforeChange = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.Encode(id), cancellationToken: ct);
            Require(condition, id, current.HasValue ? current.Value : null);
            var json = JsonSerializer.Serialize(document, Json);
            // The same document again is no change: no new version, so no one's If-Match on it fails, and no audit entry.
            if (current.HasValue && SameDocument(StorageJson.ReadText(current.Value!, "Doc"), json)) return (false, current.Value!.GetInt32("Version") ?? 1);
            if (beforeChange is not null) await beforeChange();
            var version = current.HasValue ? (current.Value!.GetInt32("Version") ?? 1) + 1 : await LastVersionAsync(id, ct) + 1;
            var now = DateTimeOffset.UtcNow;
            var entity = new TableEntity(Partition, StorageKeys.Encode(id)) { ["UpdatedAt"] = now, ["Version"] = version };
            StorageJson.WriteText(entity, "Doc", json);
            var after = Audited(JsonSerializer.SerializeToNode(document, Json));
            var before = current.HasValue ? Audited(AsShown(StorageJson.ReadText(current.Value!, "Doc"))) : null;
            List<TableTransactionAction> batch =
            [
                current.HasValue
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, current.Value!.ETag)
                    : new TableTransactionAction(TableTransactionActionType.Add, entity),
                new TableTransactionAction(TableTransactionActionType.Add, History(id, version, current.HasValue ? "update" : "create", now, actor, before, after)),
            ];
            try
            {
                await _table.SubmitTransactionAsync(batch, ct);
                return (!current.HasValue, version);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // Changed by someone else meanwhile: build the change again on what is there now.
                if (attempt == Attempts) throw GaveUp(id, "stored", e);
                await Backoff(attempt, ct);
            }
        }
    }

    /// <summary>Deletes the document, recording the change; false when there is none.</summary>
    public Task<bool> DeleteAsync(string id, ChangeActor actor, CancellationToken ct) => DeleteAsync(id, actor, VersionCondition.None, ct);

    /// <summary>
    /// Deletes the document if it meets <paramref name="condition"/>, recording the change; false when
    /// there is none; throws <see cref="VersionConditionFailedException"/> when it does not meet it.
    /// </summary>
    /// <param name="beforeChange">As for <see cref="PutVersionedAsync(string, T, ChangeActor, VersionCondition, CancellationToken, Func{Task}?)"/>: a retried delete finds nothing to delete.</param>
    public async Task<bool> DeleteAsync(string id, ChangeActor actor, VersionCondition condition, CancellationToken ct, Func<Task>? beforeChange = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.Encode(id), cancellationToken: ct);
            if (!current.HasValue) return false;
            Require(condition, id, current.Value);
            if (beforeChange is not null) await beforeChange();
            var version = (current.Value!.GetInt32("Version") ?? 1) + 1;
            List<TableTransactionAction> batch =
            [
                new TableTransactionAction(TableTransactionActionType.Delete, current.Value!, current.Value!.ETag),
                new TableTransactionAction(TableTransactionActionType.Add, History(id, version, "delete", DateTimeOffset.UtcNow, actor,
                    Audited(AsShown(StorageJson.ReadText(current.Value!, "Doc"))), null)),
            ];
            try
            {
                await _table.SubmitTransactionAsync(batch, ct);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                if (attempt == Attempts) throw GaveUp(id, "deleted", e);
                await Backoff(attempt, ct);
            }
        }
    }

    /// <summary>
    /// Whether two stored forms are the same document: numbers compared by value, not by how they were
    /// written (found by probing: a quota of 2000.0 for 2000 made a new version, and others' If-Match failed).
    /// </summary>
    private static bool SameDocument(string? stored, string json) =>
        stored is not null && (stored == json || Canonical(JsonNode.Parse(stored)) == Canonical(JsonNode.Parse(json)));

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) =>
            (d / 1.0000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture),
        null => "null",
        _ => node.ToJsonString(),
    };

    /// <summary>Throws when the stored row (null: none) does not meet the client's condition. The write that follows is conditional on this very row.</summary>
    private void Require(VersionCondition condition, string id, TableEntity? current)
    {
        int? version = current is null ? null : current.GetInt32("Version") ?? 1;
        if (!condition.Holds(version)) throw new VersionConditionFailedException(kind, id, version);
    }

    private ConcurrentChangeException GaveUp(string id, string what, Exception last) =>
        new($"The {kind} '{id}' was not {what}: other changes to the {kind}s kept committing first ({Attempts} attempts).", last);

    private static Task Backoff(int attempt, CancellationToken ct) => Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * Math.Min(attempt, 10)), ct);

    /// <summary>Every recorded change of these documents, oldest first.</summary>
    public async Task<IReadOnlyList<DocumentChange>> HistoryAsync(CancellationToken ct)
    {
        var result = new List<DocumentChange>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {HistoryPrefix} and RowKey lt {HistoryPrefix + "~"}"), cancellationToken: ct))
        {
            result.Add(new DocumentChange(kind, e.GetString("Id") ?? "", e.GetInt32("Version") ?? 0, e.GetString("Action") ?? "", e.GetDateTimeOffset("At") ?? default,
                new ChangeActor(e.GetString("ActorName") ?? "", e.GetString("ActorRole") ?? ""),
                AsShown(StorageJson.ReadText(e, "Before")), AsShown(StorageJson.ReadText(e, "After"))));
        }
        return result.OrderBy(c => c.At).ThenBy(c => c.Version).ToList();
    }

    /// <summary>
    /// What a change records of a document, before and after: the whole document, unless a store keeps parts of it that
    /// earlier changes recorded already (an incentive plan's earlier versions).
    /// </summary>
    protected virtual JsonNode? Audited(JsonNode? document) => document;

    /// <summary>
    /// A recorded document as the audit trail shows it: as recorded, except that an enum written before
    /// enums were spelled as the API spells them (<c>"Month"</c>) reads as it would now (<c>"month"</c>).
    /// Nothing is added or dropped: a member the document type gained or lost since stays as recorded.
    /// </summary>
    private static JsonNode? AsShown(string? json)
    {
        if (json is null) return null;
        var recorded = JsonNode.Parse(json);
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) is { } document ? Respelled(recorded, JsonSerializer.SerializeToNode(document, Json)) : recorded;
        }
        catch (JsonException)
        {
            return recorded;
        }
    }

    /// <summary>The recorded node, with each string that the document writes differing only in case taken as the document writes it.</summary>
    private static JsonNode? Respelled(JsonNode? recorded, JsonNode? shown)
    {
        switch (recorded)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.String && shown is JsonValue now && now.GetValueKind() == JsonValueKind.String:
                var (before, after) = (value.GetValue<string>(), now.GetValue<string>());
                return before != after && string.Equals(before, after, StringComparison.OrdinalIgnoreCase) ? JsonValue.Create(after) : value.DeepClone();
            case JsonObject o when shown is JsonObject s:
                var result = new JsonObject();
                foreach (var (name, member) in o) result[name] = Respelled(member, s[name]);
                return result;
            case JsonArray a when shown is JsonArray b && a.Count == b.Count:
                return new JsonArray(a.Select((item, i) => Respelled(item, b[i])).ToArray());
            default:
                return recorded?.DeepClone();
        }
    }

    private static TableEntity History(string id, int version, string action, DateTimeOffset at, ChangeActor actor, JsonNode? before, JsonNode? after)
    {
        var entity = new TableEntity(Partition, $"{HistoryPrefix}{StorageKeys.Encode(id)}~{version:D10}")
        {
            ["Id"] = id, ["Version"] = version, ["Action"] = action, ["At"] = at, ["ActorName"] = actor.Name, ["ActorRole"] = actor.Role,
        };
        if (before is not null) StorageJson.WriteText(entity, "Before", before.ToJsonString());
        if (after is not null) StorageJson.WriteText(entity, "After", after.ToJsonString());
        return entity;
    }

    /// <summary>The last version recorded for an id (a document deleted and defined again goes on from there).</summary>
    private async Task<int> LastVersionAsync(string id, CancellationToken ct)
    {
        var prefix = $"{HistoryPrefix}{StorageKeys.Encode(id)}~";
        var last = 0;
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {prefix} and RowKey lt {prefix + "~"}"),
                           select: ["Version"], cancellationToken: ct))
        {
            last = Math.Max(last, e.GetInt32("Version") ?? 0);
        }
        return last;
    }
}
