using Azure.Data.Tables;

namespace CrmMetrics.Storage.Account;

/// <summary>
/// Read-merge-write of many rows of one partition in few round trips. Rows that are probably new
/// are added blindly in entity-group transactions (no read at all; a conflict sends them down the
/// read path). The others are read with parallel point reads, merged, and written in transactions
/// that replace a row only if it is unchanged since it was read (ETag); rows that lost a race are
/// read and merged again.
/// </summary>
public static class PartitionBatches
{
    private const int ParallelReads = 16;
    private const int MaxAttempts = 20;

    /// <summary>
    /// Blind adds a failed transaction may lose one by one before the rest are read instead: a resent
    /// batch of rows that all exist then costs a few transactions, not one per row. Rows written from
    /// what was read are taken out one by one however many fail (each failure is a row that changed
    /// since it was read, and the others still make progress).
    /// </summary>
    private const int MaxBlindTakenOut = 3;
    private const int MaxBatchEntities = 100;
    private const int MaxBatchBytes = 3_500_000; // under the 4 MiB payload limit, with room for the envelope

    /// <summary>
    /// Entity-group transactions for rows of one partition (in order): at most 100 entities and
    /// 4 MiB each.
    /// </summary>
    public static IEnumerable<List<T>> Chunk<T>(IEnumerable<T> items, Func<T, TableEntity> entityOf)
    {
        var batch = new List<T>();
        var bytes = 0;
        foreach (var item in items)
        {
            var size = EstimateBytes(entityOf(item));
            if (batch.Count == MaxBatchEntities || bytes + size > MaxBatchBytes)
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }
            batch.Add(item);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }

    public static IEnumerable<List<TableEntity>> Chunk(IEnumerable<TableEntity> entities) => Chunk(entities, e => e);

    /// <summary>A generous estimate of an entity's size on the wire.</summary>
    private static int EstimateBytes(TableEntity e)
    {
        var bytes = 64 + (e.PartitionKey.Length + e.RowKey.Length) * 2;
        foreach (var (key, value) in e)
        {
            bytes += key.Length * 2 + 16 + (value is string s ? s.Length * 2 : 16);
        }
        return bytes;
    }

    /// <param name="merge">Folds the new data into the row (a fresh one when absent); returns null when nothing changes.</param>
    /// <param name="beforeWrite">
    /// Acts on the outcomes of the rows about to be written (marking what they change) before they
    /// are written: a crash after the write then cannot lose the follow-up, since a retry of an
    /// unchanged row reports nothing. Its flag tells whether the rows are added without having been
    /// read (so the outcome knows only the new data).
    /// </param>
    /// <param name="cache">
    /// Rows known from earlier writes and reads: a cached row is merged without being read, and its
    /// write still fails if the row changed since (ETag), which sends it down the read path.
    /// </param>
    /// <returns>The rows written, with whether each was added without having been read.</returns>
    public static async Task<List<(string RowKey, TOutcome Outcome, bool Blind)>> MergeManyAsync<TOutcome>(
        TableClient table, string partitionKey, IReadOnlyCollection<string> rowKeys, Func<string, bool> probablyNew,
        Func<string, TableEntity, TOutcome?> merge, Func<IReadOnlyList<TOutcome>, bool, Task> beforeWrite, CancellationToken ct, RowCache? cache = null) where TOutcome : class
    {
        var done = new List<(string, TOutcome, bool)>();
        var pending = new List<string>();

        // Blind adds for rows that are probably new (and not known to exist); a row that exists after all goes to the read path.
        var blind = rowKeys.Where(k => probablyNew(k) && !(cache?.Contains(partitionKey, k) ?? false)).ToHashSet(StringComparer.Ordinal);
        var settled = new HashSet<string>(StringComparer.Ordinal);
        if (cache is not null && blind.Count > 0 && blind.Count < rowKeys.Count)
        {
            // One transaction for the blind adds and the other rows (known, or read first), when they fit one.
            settled = await WriteNewAndKnownAsync(table, partitionKey, rowKeys, blind, merge, beforeWrite, cache, done, ct);
            blind.ExceptWith(settled);
        }
        foreach (var chunk in blind.Chunk(MaxBatchEntities))
        {
            var rows = Merged(chunk.Select(key => (key, new TableEntity(partitionKey, key))), merge);
            if (rows.Count > 0) await beforeWrite(rows.Select(r => r.Outcome).ToList(), true);
            var (written, conflicting) = await WriteTakingOutConflictsAsync(table, rows, r => r.Entity, cache, MaxBlindTakenOut, ct);
            done.AddRange(written.Select(r => (r.Key, r.Outcome, true)));
            pending.AddRange(conflicting.Select(r => r.Key));
        }
        pending.AddRange(rowKeys.Where(k => !blind.Contains(k) && !settled.Contains(k)));

        // Read, merge, conditional write; repeat for rows that changed underneath.
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            if (attempt == MaxAttempts) throw new ConcurrentChangeException($"Rows of partition {partitionKey} kept changing concurrently; gave up after {attempt} attempts.");
            // The first round may use rows this process knows; after a conflict every row is read afresh.
            var existing = attempt == 0 ? await ReadKnownAsync(table, partitionKey, pending, cache, ct) : await ReadManyAsync(table, partitionKey, pending, ct);
            var writes = Merged(pending.Select(key => (key, existing.TryGetValue(key, out var row) ? row : new TableEntity(partitionKey, key))), merge);
            if (writes.Count > 0) await beforeWrite(writes.Select(w => w.Outcome).ToList(), false);
            var next = new List<string>();
            foreach (var chunk in Chunk(writes, w => w.Entity))
            {
                var (written, conflicting) = await WriteTakingOutConflictsAsync(table, chunk, w => w.Entity, cache, int.MaxValue, ct);
                done.AddRange(written.Select(w => (w.Key, w.Outcome, false)));
                next.AddRange(conflicting.Select(w => w.Key));
            }
            pending = next;
        }
        return done;
    }

    /// <summary>
    /// Writes the blind adds and the merges of the other rows in one transaction, when they fit one:
    /// a partition's new and returning rows then cost one request instead of two. The other rows come
    /// from the cache, or are read first (the read path would read them anyway; what is read is
    /// cached, so a fallback does not read it again). Returns the rows settled (written, or known and
    /// unchanged); none when the transaction is not tried or fails (the callers' paths then handle
    /// every row, as without it).
    /// </summary>
    private static async Task<HashSet<string>> WriteNewAndKnownAsync<TOutcome>(TableClient table, string partitionKey, IReadOnlyCollection<string> rowKeys,
        HashSet<string> blind, Func<string, TableEntity, TOutcome?> merge, Func<IReadOnlyList<TOutcome>, bool, Task> beforeWrite, RowCache cache,
        List<(string, TOutcome, bool)> done, CancellationToken ct) where TOutcome : class
    {
        var others = rowKeys.Where(k => !blind.Contains(k)).ToList();
        if (blind.Count + others.Count > MaxBatchEntities) return [];
        var stored = await ReadKnownAsync(table, partitionKey, others, cache, ct);
        // A row that is not there after all is added, as the read path would.
        var known = others.Select(key => (Key: key, Entity: stored.TryGetValue(key, out var row) ? row : new TableEntity(partitionKey, key))).ToList();
        var added = Merged(blind.Select(key => (key, new TableEntity(partitionKey, key))), merge);
        var merged = Merged(known, merge);
        var writes = added.Concat(merged).ToList();
        if (writes.Count == 0 || Chunk(writes, w => w.Entity).Skip(1).Any()) return [];

        if (added.Count > 0) await beforeWrite(added.Select(a => a.Outcome).ToList(), true);
        if (merged.Count > 0) await beforeWrite(merged.Select(m => m.Outcome).ToList(), false);
        try
        {
            var written = await table.SubmitTransactionAsync(writes.Select(w => WriteAction(w.Entity)), ct);
            Remember(cache, writes.Select(w => w.Entity).ToList(), written.Value);
        }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
        {
            // A new row exists after all, or a known one changed: take the usual paths. Only the row
            // that failed is known to be stale (the transaction wrote nothing); without its index, none is trusted.
            if (e.FailedTransactionActionIndex is { } failed && failed < writes.Count)
            {
                cache.Forget(partitionKey, writes[failed].Key);
                // A new row that exists after all is read and merged, not added blindly once more.
                blind.Remove(writes[failed].Key);
            }
            else
            {
                foreach (var (key, _) in known) cache.Forget(partitionKey, key);
            }
            return [];
        }
        done.AddRange(added.Select(a => (a.Key, a.Outcome, true)));
        done.AddRange(merged.Select(m => (m.Key, m.Outcome, false)));
        return [.. blind, .. known.Select(k => k.Key)];
    }

    /// <summary>
    /// Writes rows of one partition, each only if it is unchanged since it was read (an add for a row
    /// without an ETag: one never read, or read as missing), in as few transactions as their number
    /// and size allow: a row whose condition fails is taken out and the others are sent again.
    /// Returns the rows not written because their condition failed.
    /// </summary>
    public static async Task<List<T>> WriteIfUnchangedAsync<T>(TableClient table, IEnumerable<T> rows, Func<T, TableEntity> entityOf, CancellationToken ct)
    {
        var conflicting = new List<T>();
        foreach (var chunk in Chunk(rows, entityOf))
        {
            conflicting.AddRange((await WriteTakingOutConflictsAsync(table, chunk, entityOf, cache: null, maxTakenOut: chunk.Count, ct)).Conflicting);
        }
        return conflicting;
    }

    /// <summary>
    /// Writes rows of one partition in one transaction (adds for rows never read, conditional
    /// replaces for the others). A row that fails it (409 or 412) is taken out and the others are
    /// sent again: the transaction wrote nothing, so their merges and cached ETags still hold. After
    /// <paramref name="maxTakenOut"/> rows, or when the answer does not say which row failed, every
    /// row not written is returned as conflicting. Conflicting rows are dropped from the cache.
    /// </summary>
    private static async Task<(List<T> Written, List<T> Conflicting)> WriteTakingOutConflictsAsync<T>(
        TableClient table, IReadOnlyList<T> rows, Func<T, TableEntity> entityOf, RowCache? cache, int maxTakenOut, CancellationToken ct)
    {
        var remaining = rows.ToList();
        var conflicting = new List<T>();
        for (var takenOut = 0; remaining.Count > 0; takenOut++)
        {
            try
            {
                var written = await table.SubmitTransactionAsync(remaining.Select(r => WriteAction(entityOf(r))), ct);
                Remember(cache, remaining.Select(entityOf).ToList(), written.Value);
                return (remaining, conflicting);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                var one = takenOut < maxTakenOut && e.FailedTransactionActionIndex is { } failed && failed < remaining.Count ? failed : -1;
                var lost = one >= 0 ? remaining.GetRange(one, 1) : remaining.ToList();
                if (one >= 0) remaining.RemoveAt(one);
                else remaining.Clear();
                foreach (var row in lost) cache?.Forget(entityOf(row).PartitionKey, entityOf(row).RowKey);
                conflicting.AddRange(lost);
            }
        }
        return ([], conflicting);
    }

    /// <summary>The rows that <paramref name="merge"/> changed, with what it reported for each.</summary>
    private static List<(string Key, TableEntity Entity, TOutcome Outcome)> Merged<TOutcome>(
        IEnumerable<(string Key, TableEntity Entity)> rows, Func<string, TableEntity, TOutcome?> merge) where TOutcome : class
    {
        var changed = new List<(string Key, TableEntity Entity, TOutcome Outcome)>();
        foreach (var (key, entity) in rows)
        {
            if (merge(key, entity) is { } outcome) changed.Add((key, entity, outcome));
        }
        return changed;
    }

    /// <summary>An add for a row never read (no ETag), else a replace only if the row is unchanged since it was read.</summary>
    private static TableTransactionAction WriteAction(TableEntity row) => row.ETag == default
        ? new TableTransactionAction(TableTransactionActionType.Add, row)
        : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag);

    /// <summary>Upserts (replacing) rows of one partition in as few transactions as their number and size allow.</summary>
    public static async Task UpsertAllAsync(TableClient table, IEnumerable<TableEntity> rows)
    {
        foreach (var chunk in Chunk(rows))
        {
            await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
        }
    }

    /// <summary>Rows from the cache where known, the others read (and then cached).</summary>
    private static async Task<Dictionary<string, TableEntity>> ReadKnownAsync(TableClient table, string partitionKey, List<string> rowKeys, RowCache? cache, CancellationToken ct)
    {
        if (cache is null) return await ReadManyAsync(table, partitionKey, rowKeys, ct);
        var known = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        foreach (var key in rowKeys)
        {
            if (cache.TryGet(partitionKey, key, out var row)) known[key] = row;
        }
        var read = await ReadManyAsync(table, partitionKey, rowKeys.Where(k => !known.ContainsKey(k)), ct);
        foreach (var (key, row) in read)
        {
            cache.Set(row, row.ETag);
            known[key] = row;
        }
        return known;
    }

    /// <summary>Caches rows as a transaction wrote them, with the ETags its responses gave (in action order).</summary>
    private static void Remember(RowCache? cache, IReadOnlyList<TableEntity> rows, IReadOnlyList<Azure.Response> responses)
    {
        if (cache is null) return;
        for (var i = 0; i < rows.Count; i++)
        {
            if (i < responses.Count && responses[i].Headers.ETag is { } etag) cache.Set(rows[i], etag);
            else cache.Forget(rows[i].PartitionKey, rows[i].RowKey);
        }
    }

    /// <summary>Point reads in parallel: the cheapest read Table Storage has.</summary>
    public static async Task<Dictionary<string, TableEntity>> ReadManyAsync(TableClient table, string partitionKey, IEnumerable<string> rowKeys, CancellationToken ct)
    {
        var found = new System.Collections.Concurrent.ConcurrentDictionary<string, TableEntity>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(rowKeys.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = ct }, async (rowKey, token) =>
        {
            var row = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: token);
            if (row.HasValue) found[rowKey] = row.Value!;
        });
        return new Dictionary<string, TableEntity>(found, StringComparer.Ordinal);
    }
}
