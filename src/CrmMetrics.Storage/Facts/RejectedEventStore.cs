using System.Text.Json;
using Azure.Data.Tables;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>An event (or a whole message) that could not be ingested, with the reasons, kept for operators.</summary>
public sealed record RejectedEvent(string Source, string MessageId, int Index, string? EventId, IReadOnlyDictionary<string, string[]> Errors, string? Raw);

/// <summary>
/// Invalid events that arrived by queue: they are recorded here with their reasons instead of being
/// retried (retrying cannot make them valid). Partitioned by UTC day of arrival. The raw text is kept
/// whole (a queue message is at most 64 KiB), in slices of one string property each, so an operator can
/// mend and resend it.
/// </summary>
public sealed class RejectedEventStore(StorageAccount account)
{
    /// <summary>Characters per string property: a property holds at most 64 KiB of UTF-16.</summary>
    private const int RawSliceChars = 30_000;

    /// <summary>Bytes of raw text per entity-group transaction, well inside its 4 MiB.</summary>
    private const int TransactionRawBytes = 2 * 1024 * 1024;

    private readonly TableClient _table = account.Table(StorageNames.Tables.RejectedEvents);

    public async Task RecordAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken ct)
    {
        var pk = StorageKeys.DayKey(DateOnly.FromDateTime(DateTime.UtcNow));
        var batch = new List<TableTransactionAction>();
        var bytes = 0;
        foreach (var r in rejected)
        {
            var entity = new TableEntity(pk, $"{StorageKeys.Encode(r.MessageId)}-{r.Index:D5}")
            {
                ["Source"] = r.Source,
                ["EventId"] = EventIdOf(r.EventId),
                ["Errors"] = JsonSerializer.Serialize(r.Errors, StorageJson.Options),
            };
            for (var (slice, offset) = (0, 0); r.Raw is not null && offset < r.Raw.Length; slice++, offset += RawSliceChars)
                entity[RawProperty(slice)] = r.Raw.Substring(offset, Math.Min(RawSliceChars, r.Raw.Length - offset));
            var size = 2 * (r.Raw?.Length ?? 0);
            if (batch.Count == 100 || batch.Count > 0 && bytes + size > TransactionRawBytes)
            {
                await _table.SubmitTransactionAsync(batch, ct);
                (batch, bytes) = ([], 0);
            }
            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            bytes += size;
        }
        if (batch.Count > 0) await _table.SubmitTransactionAsync(batch, ct);
    }

    /// <summary>
    /// Characters of a rejected event's id kept in <c>EventId</c>: an id too long to be valid can exceed
    /// what one property holds (64 KiB), and the raw text keeps it whole anyway.
    /// </summary>
    public const int EventIdChars = 1_000;

    private static string? EventIdOf(string? id) =>
        id is { Length: > EventIdChars } ? id[..(char.IsHighSurrogate(id[EventIdChars - 1]) ? EventIdChars - 1 : EventIdChars)] + "…" : id;

    private static string RawProperty(int slice) => slice == 0 ? "Raw" : $"Raw{slice}";

    private static string? RawOf(TableEntity e)
    {
        if (e.GetString("Raw") is not { } first) return null;
        var raw = new System.Text.StringBuilder(first);
        for (var slice = 1; e.GetString(RawProperty(slice)) is { } next; slice++) raw.Append(next);
        return raw.ToString();
    }

    public async Task<IReadOnlyList<RejectedEvent>> ListAsync(DateOnly utcDay, CancellationToken ct)
    {
        var result = new List<RejectedEvent>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.DayKey(utcDay)}"), cancellationToken: ct))
        {
            var dash = e.RowKey.LastIndexOf('-');
            result.Add(new RejectedEvent(e.GetString("Source") ?? "", StorageKeys.Decode(e.RowKey[..dash]), int.Parse(e.RowKey[(dash + 1)..]),
                e.GetString("EventId"), JsonSerializer.Deserialize<Dictionary<string, string[]>>(e.GetString("Errors") ?? "{}", StorageJson.Options)!, RawOf(e)));
        }
        return result;
    }
}
