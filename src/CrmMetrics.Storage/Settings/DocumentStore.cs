using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Settings;

/// <summary>
/// Small documents an administrator defines (goals, incentive plans, alert rules): one row each,
/// in one partition per table, read whole when a period is finalised.
/// </summary>
public class DocumentStore<T>(StorageAccount account, string tableName) where T : class
{
    private const string Partition = "doc";
    private readonly TableClient _table = account.Table(tableName);

    public async Task<T?> GetAsync(string id, CancellationToken ct)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, StorageKeys.Encode(id), cancellationToken: ct);
        return row.HasValue ? StorageJson.Read<T>(row.Value!, "Doc") : null;
    }

    public async Task<IReadOnlyList<T>> ListAsync(CancellationToken ct)
    {
        var result = new List<T>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: ct))
        {
            if (StorageJson.Read<T>(e, "Doc") is { } doc) result.Add(doc);
        }
        return result;
    }

    /// <summary>Stores the document; returns true when it was created, false when it replaced one.</summary>
    public async Task<bool> PutAsync(string id, T document, CancellationToken ct)
    {
        var entity = new TableEntity(Partition, StorageKeys.Encode(id)) { ["UpdatedAt"] = DateTimeOffset.UtcNow };
        StorageJson.Write(entity, "Doc", document);
        try
        {
            await _table.AddEntityAsync(entity, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken ct)
    {
        try
        {
            await _table.DeleteEntityAsync(Partition, StorageKeys.Encode(id), ETag.All, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }
}
