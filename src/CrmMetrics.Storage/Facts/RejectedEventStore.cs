using System.Text.Json;
using Azure.Data.Tables;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>An event (or a whole message) that could not be ingested, with the reasons, kept for operators.</summary>
public sealed record RejectedEvent(string Source, string MessageId, int Index, string? EventId, IReadOnlyDictionary<string, string[]> Errors, string? Raw);

/// <summary>
/// Invalid events that arrived by queue: they are recorded here with their reasons instead of being
/// retried (retrying cannot make them valid). Partitioned by UTC day of arrival.
/// </summary>
public sealed class RejectedEventStore(StorageAccount account)
{
    private const int MaxRawChars = 8_000;
    private readonly TableClient _table = account.Table(StorageNames.Tables.RejectedEvents);

    public async Task RecordAsync(IReadOnlyList<RejectedEvent> rejected, CancellationToken ct)
    {
        var pk = StorageKeys.DayKey(DateOnly.FromDateTime(DateTime.UtcNow));
        foreach (var chunk in rejected.Chunk(100))
        {
            await _table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(pk, $"{StorageKeys.Encode(r.MessageId)}-{r.Index:D5}")
                {
                    ["Source"] = r.Source,
                    ["EventId"] = r.EventId,
                    ["Errors"] = JsonSerializer.Serialize(r.Errors, StorageJson.Options),
                    ["Raw"] = r.Raw is null ? null : r.Raw.Length <= MaxRawChars ? r.Raw : r.Raw[..MaxRawChars],
                })), ct);
        }
    }

    public async Task<IReadOnlyList<RejectedEvent>> ListAsync(DateOnly utcDay, CancellationToken ct)
    {
        var result = new List<RejectedEvent>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {StorageKeys.DayKey(utcDay)}"), cancellationToken: ct))
        {
            var dash = e.RowKey.LastIndexOf('-');
            result.Add(new RejectedEvent(e.GetString("Source") ?? "", StorageKeys.Decode(e.RowKey[..dash]), int.Parse(e.RowKey[(dash + 1)..]),
                e.GetString("EventId"), JsonSerializer.Deserialize<Dictionary<string, string[]>>(e.GetString("Errors") ?? "{}", StorageJson.Options)!, e.GetString("Raw")));
        }
        return result;
    }
}
