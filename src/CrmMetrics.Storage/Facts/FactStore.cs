using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>The outcome of storing facts: which were new and which had been stored before.</summary>
/// <param name="Duplicates">Facts whose id was accepted before (including <paramref name="Conflicting"/>).</param>
/// <param name="Conflicting">
/// Duplicates whose id was accepted with other content: a time on another UTC day, or on the same day
/// another customer, case, value or anything else (<see cref="FactFingerprint"/>). They change nothing,
/// so nothing downstream may apply them either (the others are the same fact, applied again harmlessly);
/// the facts stored under their ids are given in <paramref name="Kept"/> or <paramref name="StoredInstead"/>.
/// </param>
/// <param name="Kept">
/// Facts that a write which never committed left in the log, with other content than their resends (among
/// <paramref name="Conflicting"/>), whose claims this write took over as they were: they are the ids'
/// facts now. The write that appended them never got as far as applying them downstream, so this write
/// handed them to its <c>applyKept</c> before it committed them.
/// </param>
/// <param name="StoredInstead">
/// For the <paramref name="Conflicting"/> duplicates whose ids a committed write stored: the facts stored under
/// those ids, as readers count them (the first occurrence in the claim's UTC day). The write that stored them may
/// have died before applying them downstream; applied again in place of the resends, as the same fact resent is,
/// they repair that. Read only when there are such duplicates, each UTC day once.
/// </param>
public sealed record FactWriteResult(IReadOnlyList<Fact> Accepted, IReadOnlyList<Fact> Duplicates, IReadOnlyList<Fact> Conflicting, IReadOnlyList<Fact> Kept,
    IReadOnlyList<Fact> StoredInstead);

/// <summary>
/// Raw facts: each id claimed in an id index keyed by the id alone (the contract's idempotency: a
/// resent id is a duplicate, even with another time), the facts themselves appended to their UTC
/// day's <see cref="FactLog"/>. The claim is the only table write per fact.
/// <para>
/// A write claims its ids under a fresh write id, appends the facts and then records the write as
/// committed (one row per write). Only then does it wait for the writes that claimed its other ids
/// first, so two requests that split each other's ids between them never wait for each other; ids
/// it takes over from a write that never committed are appended and committed under a second write
/// id. A crash between any two steps loses and doubles nothing: an id
/// found claimed by a write that never committed is appended again by whoever sends it next (the
/// first write may or may not have reached the log), and readers keep the first occurrence of an id
/// in a day's log; when it is sent next with other content (a time on another UTC day, another
/// amount...), the claim's day is read first: a fact the first write left there is the one readers
/// count (and a fact counts once per day's log, not across days), so it stays the id's. Claims from
/// before the fact logs (no write id) are decided by the fact row they were written with, and the
/// rows of that time are still read with the log.
/// </para>
/// </summary>
/// <param name="ownerGrace">
/// How long a claim's write may still be under way: a younger claim whose write has not committed
/// is waited for (it is most likely the same fact sent twice at once), an older one is taken over.
/// </param>
/// <param name="movedDayGrace">
/// How old a claim on another UTC day must be before a resend moves it to its own day (<see cref="DefaultMovedDayGrace"/>;
/// with only <paramref name="ownerGrace"/> given, that).
/// </param>
public sealed class FactStore(StorageAccount account, TimeSpan? ownerGrace = null, TimeSpan? movedDayGrace = null)
{
    /// <summary>Longer than any write of one request takes, so a claim this old whose write has not committed was abandoned.</summary>
    public static readonly TimeSpan DefaultOwnerGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longer than any write can still be running: host.json's functionTimeout (10 minutes), past which the Functions
    /// host restarts the worker, and a minute more. A claim on another day is moved only when this old: a write that
    /// was slow rather than dead (storage answers wait up to 60 s, four times) would otherwise append its fact on its
    /// own day after the resend had appended on another, and readers keep an id once per day, so it would count twice
    /// (found by a review of the change that first moved such claims).
    /// </summary>
    public static readonly TimeSpan DefaultMovedDayGrace = TimeSpan.FromMinutes(11);

    private const int MaxParallelBatches = 8;
    private const int PageSize = 1000;
    private static readonly string[] ClaimColumns = ["Day", "Write", "Sum", "Timestamp"];

    private readonly TimeSpan _ownerGrace = ownerGrace ?? DefaultOwnerGrace;
    private readonly TimeSpan _movedDayGrace = movedDayGrace ?? ownerGrace ?? DefaultMovedDayGrace;
    private readonly TableClient _ids = account.Table(StorageNames.Tables.FactIds);
    private readonly TableClient _writes = account.Table(StorageNames.Tables.FactWrites);
    private readonly LegacyFactRows _legacy = new(account.Table(StorageNames.Tables.Facts));
    private readonly FactLog _log = new(account.Container(StorageNames.Containers.FactLogs));

    /// <summary>Inserts facts (already distinct by id). Safe to repeat: repeated ids come back as duplicates.</summary>
    public Task<FactWriteResult> InsertAsync(IReadOnlyList<Fact> facts, CancellationToken cancellationToken) =>
        InsertAsync(facts, static (_, _) => Task.CompletedTask, static (_, _) => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// <see cref="InsertAsync(IReadOnlyList{Fact}, CancellationToken)"/>, calling <paramref name="beforeAppend"/>
    /// with the facts this write is about to append (the ones it claimed, then any it takes over), before it
    /// appends them, and <paramref name="beforeCommit"/> with the same facts once they are in the log, before
    /// the write is committed: what must be marked before a fact can be read (its day, for the map step) is
    /// marked for new facts only, and a crash after the claims and before the mark appends nothing. The
    /// second call is for a reader that read the mark and the log before the append and cleared the mark
    /// after it: marked again after the append, the fact is read by whoever clears that mark, and a crash
    /// before the mark leaves the write uncommitted, so the resend takes it over and is called again itself
    /// (a committed write's resend is a duplicate, which calls nothing). <paramref name="applyKept"/> is called
    /// with the facts it keeps (<see cref="FactWriteResult.Kept"/>) after <paramref name="beforeCommit"/>, before
    /// the write that keeps them commits: what must follow from them downstream is done while a crash still
    /// leaves their claims to be taken over, and them kept and handed over again, by the next resend (once
    /// committed, a resend with other content is a conflicting duplicate, which calls nothing: the fact stored
    /// under its id comes back in <see cref="FactWriteResult.StoredInstead"/>).
    /// </summary>
    public async Task<FactWriteResult> InsertAsync(IReadOnlyList<Fact> facts, Func<IReadOnlyList<Fact>, CancellationToken, Task> beforeAppend,
        Func<IReadOnlyList<Fact>, CancellationToken, Task> beforeCommit, CancellationToken cancellationToken, Func<IReadOnlyList<Fact>, CancellationToken, Task>? applyKept = null)
    {
        applyKept ??= static (_, _) => Task.CompletedTask;
        var write = Guid.NewGuid().ToString("N");

        // 1. Claim the ids. An id claimed before is a duplicate if the claim's write committed (one claimed
        //    for another UTC day, or with other content, a conflicting one), and otherwise may never have
        //    reached the log.
        var idBatches = facts.Select(f => (Fact: f, Entity: new TableEntity(StorageKeys.FactIdPartition(f.Id), f.Id) { ["Day"] = DayOf(f), ["Write"] = write, ["Sum"] = FactFingerprint.Of(f) }))
            .GroupBy(x => x.Entity.PartitionKey).SelectMany(p => PartitionBatches.Chunk(p, x => x.Entity)).ToList();
        var claimed = new List<Fact>(facts.Count);
        var claimedBefore = new List<(Fact Fact, TableEntity Claim)>();
        var gate = new object();
        await Parallel.ForEachAsync(idBatches, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = cancellationToken },
            async (batch, ct) =>
            {
                var (added, existing) = await AddAllAsync(_ids, batch, ClaimColumns, ct);
                lock (gate)
                {
                    claimed.AddRange(added);
                    foreach (var (fact, row) in existing)
                    {
                        if (row.GetString("Write") == write) claimed.Add(fact); // our own claim, its response lost and the request retried
                        else claimedBefore.Add((fact, row));
                    }
                }
            });
        // 2. Append the facts this write claimed and commit them, before waiting for anyone: another
        //    request may be waiting for this commit while holding ids this one waits for.
        if (claimed.Count > 0) await beforeAppend(claimed, cancellationToken);
        await AppendAndCommitAsync(claimed, [], write, beforeCommit, applyKept, cancellationToken);

        // 3. Ids claimed before: a duplicate once their write commits (one on another day or with other
        //    content a conflicting one, which nothing applies: see below); taken over if it never does (the resend is
        //    then the fact acknowledged). Each round first waits for the owners, holding nothing uncommitted, then
        //    takes the abandoned claims over without waiting, appends them and commits them under a
        //    fresh write id; a claim another request moved in between is decided again next round.
        //    A claim with other content (another UTC day, another fingerprint) is first looked for in its
        //    day's log: readers keep an id's first occurrence in a day (not across days), so a fact its
        //    write left there is the one the figures count. That fact stays the id's: the claim is taken
        //    over as it is and committed without appending, the resend is a conflicting duplicate, and the
        //    fact is marked as an appended one, and applied downstream before the commit. Otherwise the claim
        //    moves to the resend's day and content.
        //    (A resend of the same content needs no look: whichever occurrence counts, it is that fact. A claim
        //    from before content was kept with it says nothing of its content, so its day is looked in too.)
        //    A committed claim with other content is looked for in the same read of its day (one read a day and
        //    round, none without such claims): its write may have died after its commit and before applying
        //    the fact downstream, so the fact readers count there is handed back, to be applied in the
        //    resend's place as the same fact resent would be (StoredInstead).
        var duplicates = new List<Fact>();
        var conflicting = new List<Fact>();
        var keptInLog = new List<Fact>();
        var storedInstead = new List<Fact>();
        var pending = claimedBefore;
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == 10) throw new InvalidOperationException($"The claim of fact id '{pending[0].Fact.Id}' kept changing; gave up.");
            var (stored, abandoned) = await DecideOwnersAsync(pending, cancellationToken);
            duplicates.AddRange(stored.Select(s => s.Fact));
            var storedOther = stored.Where(s => HoldsOtherContent(s.Claim, s.Fact)).ToList();
            conflicting.AddRange(storedOther.Select(s => s.Fact));
            var unsure = abandoned.Where(a => a.Claim.GetString("Sum") is null || HoldsOtherContent(a.Claim, a.Fact)).ToList();
            var logged = await FirstOccurrencesAsync([.. storedOther, .. unsure], cancellationToken);
            storedInstead.AddRange(storedOther.Where(s => logged.ContainsKey(s.Fact.Id)).Select(s => logged[s.Fact.Id]));
            // A fact an abandoned write left in the log with other content than the resend: the one readers count.
            var inLog = unsure.Where(a => logged.TryGetValue(a.Fact.Id, out var found) && FactFingerprint.Of(found) != FactFingerprint.Of(a.Fact))
                .ToDictionary(a => a.Fact.Id, a => logged[a.Fact.Id], StringComparer.Ordinal);
            // A claim on another day whose fact is not in its day's log is moved only once its write cannot still be
            // running; younger, the resend is a conflicting duplicate, as it was before such claims were moved.
            var unmovable = abandoned.Where(a => !inLog.ContainsKey(a.Fact.Id) && a.Claim.GetString("Day") != DayOf(a.Fact)
                && !(a.Claim.Timestamp is { } claimedAt && DateTimeOffset.UtcNow - claimedAt >= _movedDayGrace)).ToList();
            if (unmovable.Count > 0)
            {
                duplicates.AddRange(unmovable.Select(a => a.Fact));
                conflicting.AddRange(unmovable.Select(a => a.Fact));
                abandoned = abandoned.Except(unmovable).ToList();
            }
            var takeover = Guid.NewGuid().ToString("N");
            var (taken, moved) = await TakeOverAsync(abandoned, inLog, takeover, cancellationToken);
            var kept = taken.Where(f => inLog.ContainsKey(f.Id)).ToList();
            taken = taken.Where(f => !inLog.ContainsKey(f.Id)).ToList();
            if (taken.Count > 0) await beforeAppend(taken, cancellationToken);
            var keptFacts = kept.Select(f => inLog[f.Id]).ToList();
            await AppendAndCommitAsync(taken, keptFacts, takeover, beforeCommit, applyKept, cancellationToken);
            claimed.AddRange(taken);
            duplicates.AddRange(kept);
            conflicting.AddRange(kept);
            keptInLog.AddRange(keptFacts);
            pending = moved;
        }
        return new FactWriteResult(claimed, duplicates, conflicting, keptInLog, storedInstead);
    }

    /// <summary>
    /// Appends the facts to their UTC days' logs, calls <paramref name="beforeCommit"/> with them and
    /// with <paramref name="inLog"/> (facts of taken-over claims that an earlier write left in the log),
    /// then <paramref name="applyKept"/> with <paramref name="inLog"/>, then records <paramref name="write"/>
    /// as committed: from then on a resend of their ids is a duplicate.
    /// </summary>
    private async Task AppendAndCommitAsync(List<Fact> facts, List<Fact> inLog, string write, Func<IReadOnlyList<Fact>, CancellationToken, Task> beforeCommit,
        Func<IReadOnlyList<Fact>, CancellationToken, Task> applyKept, CancellationToken cancellationToken)
    {
        if (facts.Count == 0 && inLog.Count == 0) return;
        await Parallel.ForEachAsync(facts.GroupBy(UtcDayOf),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = cancellationToken },
            async (day, ct) => await _log.AppendAsync(day.Key, day, ct));
        await beforeCommit([.. facts, .. inLog], cancellationToken);
        if (inLog.Count > 0) await applyKept(inLog, cancellationToken);
        await _writes.UpsertEntityAsync(new TableEntity(WritePartition(write), write), TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>
    /// Sorts facts whose id another write claimed for the same day: stored (that write committed, or,
    /// for claims from before the logs, its fact row exists) or abandoned (it never committed within
    /// the grace). Waits for the owners; the caller holds no uncommitted claim meanwhile.
    /// </summary>
    private async Task<(List<(Fact Fact, TableEntity Claim)> Stored, List<(Fact Fact, TableEntity Claim)> Abandoned)> DecideOwnersAsync(
        List<(Fact Fact, TableEntity Claim)> claims, CancellationToken ct)
    {
        var stored = new System.Collections.Concurrent.ConcurrentBag<(Fact, TableEntity)>();
        var abandoned = new System.Collections.Concurrent.ConcurrentBag<(Fact, TableEntity)>();
        await Parallel.ForEachAsync(claims, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = ct }, async (item, token) =>
        {
            var (fact, claim) = item;
            var owner = claim.GetString("Write");
            var committed = owner is not null ? await OwnerCommittedAsync(owner, claim.Timestamp, token)
                // A claim from before the logs is decided by its fact row, kept in the claim's day: one on another
                // day was stored (nothing wrote such a claim without its row in the same request).
                : claim.GetString("Day") != DayOf(fact) || await _legacy.ExistsAsync(fact, token);
            if (committed) stored.Add(item);
            else abandoned.Add(item);
        });
        return ([.. stored], [.. abandoned]);
    }

    /// <summary>
    /// Whether a claim records other content than <paramref name="fact"/>: another UTC day, or another
    /// fingerprint. Claims from before content was kept with them (no Sum) count as the same content.
    /// </summary>
    private static bool HoldsOtherContent(TableEntity claim, Fact fact) =>
        claim.GetString("Day") != DayOf(fact) || (claim.GetString("Sum") is { } sum && sum != FactFingerprint.Of(fact));

    /// <summary>
    /// The facts stored under these claims' ids in their claims' UTC days, as readers count them (an id's first
    /// occurrence in its day), by id; an id not in its day is left out. Each day is read once, whole: a rare path
    /// (a resend with other content), so the cost is taken there, and nothing is read for no claims.
    /// </summary>
    private async Task<Dictionary<string, Fact>> FirstOccurrencesAsync(List<(Fact Fact, TableEntity Claim)> claims, CancellationToken ct)
    {
        var found = new System.Collections.Concurrent.ConcurrentDictionary<string, Fact>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(claims.GroupBy(c => c.Claim.GetString("Day")), new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = ct }, async (day, token) =>
        {
            var wanted = day.Select(c => c.Fact.Id).ToHashSet(StringComparer.Ordinal);
            await foreach (var fact in ReadUtcDayAsync(StorageKeys.ParseDayKey(day.Key!), DayWindow.Always, token))
            {
                if (wanted.Contains(fact.Id)) found[fact.Id] = fact;
            }
        });
        return new Dictionary<string, Fact>(found, StringComparer.Ordinal);
    }

    /// <summary>
    /// Moves abandoned claims to <paramref name="write"/>, each only if unchanged since it was read,
    /// without waiting for anyone: onto its fact's day and content, or, for a fact in <paramref name="inLog"/>
    /// (its claim's write reached the log of the claim's day), as the claim is. Returns the facts taken over
    /// and, with their claims read again, those another request moved first.
    /// </summary>
    private async Task<(List<Fact> Taken, List<(Fact Fact, TableEntity Claim)> Moved)> TakeOverAsync(
        List<(Fact Fact, TableEntity Claim)> abandoned, IReadOnlyDictionary<string, Fact> inLog, string write, CancellationToken ct)
    {
        var taken = new System.Collections.Concurrent.ConcurrentBag<Fact>();
        var moved = new System.Collections.Concurrent.ConcurrentBag<(Fact, TableEntity)>();
        await Parallel.ForEachAsync(abandoned, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelBatches, CancellationToken = ct }, async (item, token) =>
        {
            var (fact, claim) = item;
            var (partition, id) = (StorageKeys.FactIdPartition(fact.Id), fact.Id);
            try
            {
                var stored = inLog.TryGetValue(id, out var found) ? found : fact;
                await _ids.UpdateEntityAsync(new TableEntity(partition, id) { ["Day"] = DayOf(stored), ["Write"] = write, ["Sum"] = FactFingerprint.Of(stored) },
                    claim.ETag, TableUpdateMode.Replace, token);
                taken.Add(fact);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                var now = (await _ids.GetEntityAsync<TableEntity>(partition, id, ClaimColumns, token)).Value;
                // Our own update, its response lost and the request retried by the client.
                if (now.GetString("Write") == write) taken.Add(fact);
                else moved.Add((fact, now));
            }
        });
        return ([.. taken], [.. moved]);
    }

    /// <summary>
    /// Whether the claim's write committed. While the claim is younger than the grace its write may
    /// still be under way (the same fact sent twice at once), so the answer waits for it: taking the
    /// claim over then would report the fact as accepted twice.
    /// </summary>
    private async Task<bool> OwnerCommittedAsync(string owner, DateTimeOffset? claimedAt, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            if (await IsCommittedAsync(owner, ct)) return true;
            if (claimedAt is null || DateTimeOffset.UtcNow - claimedAt.Value >= _ownerGrace) return false;
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    private static string WritePartition(string write) => write.Length >= 2 ? write[..2] : write;

    private async Task<bool> IsCommittedAsync(string write, CancellationToken ct) =>
        (await _writes.GetEntityIfExistsAsync<TableEntity>(WritePartition(write), write, ["RowKey"], ct)).HasValue;

    private static DateOnly UtcDayOf(DateTimeOffset time) => DateOnly.FromDateTime(time.UtcDateTime);

    private static DateOnly UtcDayOf(Fact f) => UtcDayOf(f.Time);

    /// <summary>The UTC day a claim records for its fact.</summary>
    private static string DayOf(Fact f) => StorageKeys.DayKey(UtcDayOf(f));

    /// <summary>
    /// Adds one partition's rows in a transaction; rows that exist already are read (the columns
    /// named) and returned instead of added. Safe to repeat.
    /// </summary>
    private static async Task<(List<T> Added, List<(T Item, TableEntity Row)> Existing)> AddAllAsync<T>(
        TableClient table, List<(T Item, TableEntity Entity)> batch, IEnumerable<string> readColumns, CancellationToken ct)
    {
        var existing = new List<(T, TableEntity)>();
        var pending = batch;
        var columns = readColumns.ToList();
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            try
            {
                await table.SubmitTransactionAsync(pending.Select(x => new TableTransactionAction(TableTransactionActionType.Add, x.Entity)), ct);
                return (pending.Select(x => x.Item).ToList(), existing);
            }
            catch (TableTransactionFailedException e) when (e.Status == 409 && attempt < 10)
            {
                // Some rows exist already. Find them all at once rather than one failed transaction per row.
                var found = await Task.WhenAll(pending.Select(async x =>
                    (x, (await table.GetEntityIfExistsAsync<TableEntity>(x.Entity.PartitionKey, x.Entity.RowKey, columns, ct)))));
                existing.AddRange(found.Where(r => r.Item2.HasValue).Select(r => (r.x.Item, r.Item2.Value!)));
                pending = found.Where(r => !r.Item2.HasValue).Select(r => r.x).ToList();
            }
        }
        return ([], existing);
    }

    /// <summary>
    /// Streams the facts of one local day as pages of columns over <paramref name="labels"/>, the same
    /// facts as <see cref="ScanDayFactsAsync"/>: log blocks are decoded straight into the columns, with
    /// no <see cref="Fact"/> per fact. Never holds the day in memory beyond the ids seen and one log
    /// block. The same <see cref="FactColumns"/> is refilled for every page: use a page before asking
    /// for the next.
    /// </summary>
    public async IAsyncEnumerable<FactColumns> ScanDayAsync(DateOnly localDay, PeriodCalendar calendar, FactLabels labels,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = new FactColumns(labels, PageSize);
        var window = DayWindow.Of(localDay, calendar);
        // A local day off UTC spans two UTC days: both logs are asked for at once.
        var logs = window.UtcDays.Select(utcDay => _log.Open(utcDay, cancellationToken)).ToList();
        try
        {
            foreach (var log in logs)
            {
                var keep = FirstOccurrencesWithin(window);
                await foreach (var fact in _legacy.ReadDayAsync(log.UtcDay, cancellationToken))
                {
                    if (!keep(fact.Id, fact.Time.UtcTicks)) continue;
                    page.Add(fact);
                    if (page.Count < PageSize) continue;
                    yield return page;
                    page.Clear();
                }
                await foreach (var block in _log.ReadBlocksAsync(log, cancellationToken))
                {
                    FactLogFormat.AppendTo(block, page, keep);
                    if (page.Count < PageSize) continue;
                    yield return page;
                    page.Clear();
                }
            }
        }
        finally
        {
            foreach (var log in logs) await log.DisposeAsync();
        }
        if (page.Count > 0) yield return page;
    }

    /// <summary>
    /// The facts of one local day: the logs of the UTC days it overlaps, each id once (its first
    /// occurrence in its day's log), filtered to the local day's hours.
    /// </summary>
    public async IAsyncEnumerable<Fact> ScanDayFactsAsync(DateOnly localDay, PeriodCalendar calendar, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var window = DayWindow.Of(localDay, calendar);
        foreach (var utcDay in window.UtcDays)
        {
            await foreach (var fact in ReadUtcDayAsync(utcDay, window, cancellationToken)) yield return fact;
        }
    }

    /// <summary>The facts of one UTC day that <see cref="FirstOccurrencesWithin"/> keeps: the rows from before the logs, then the log.</summary>
    private async IAsyncEnumerable<Fact> ReadUtcDayAsync(DateOnly utcDay, DayWindow window, [EnumeratorCancellation] CancellationToken ct)
    {
        var keep = FirstOccurrencesWithin(window);
        await foreach (var fact in _legacy.ReadDayAsync(utcDay, ct))
        {
            if (keep(fact.Id, fact.Time.UtcTicks)) yield return fact;
        }
        await foreach (var fact in _log.ReadAsync(utcDay, ct))
        {
            if (keep(fact.Id, fact.Time.UtcTicks)) yield return fact;
        }
    }

    /// <summary>
    /// The rule every read of a UTC day follows, asked of each stored fact in order (the rows from
    /// before the logs, then the log): an id counts once, at its first occurrence in the UTC day (a
    /// later one is a block appended again), and only if that occurrence lies in the window. Every
    /// fact is seen, inside the window or not, so an id first stored outside it stays out.
    /// </summary>
    private static Func<string, long, bool> FirstOccurrencesWithin(DayWindow window)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return (id, utcTicks) => seen.Add(id) && window.Holds(utcTicks);
    }

    /// <summary>A local day's hours as UTC ticks, and the UTC days whose logs hold them.</summary>
    private readonly record struct DayWindow(long StartTicks, long EndTicks)
    {
        public static DayWindow Of(DateOnly localDay, PeriodCalendar calendar) =>
            new(calendar.StartOfDay(localDay).UtcTicks, calendar.StartOfDay(localDay.AddDays(1)).UtcTicks);

        /// <summary>All time: a UTC day read whole.</summary>
        public static readonly DayWindow Always = new(long.MinValue, long.MaxValue);

        public bool Holds(long utcTicks) => utcTicks >= StartTicks && utcTicks < EndTicks;

        public IEnumerable<DateOnly> UtcDays
        {
            get
            {
                var last = DateOnly.FromDateTime(new DateTime(EndTicks - 1, DateTimeKind.Utc));
                for (var day = DateOnly.FromDateTime(new DateTime(StartTicks, DateTimeKind.Utc)); day <= last; day = day.AddDays(1)) yield return day;
            }
        }
    }

    /// <summary>The stored fact with this id, looked up in the UTC day of <paramref name="time"/>.</summary>
    public async Task<Fact?> GetAsync(string id, DateTimeOffset time, CancellationToken cancellationToken)
    {
        await foreach (var fact in ReadUtcDayAsync(UtcDayOf(time), DayWindow.Always, cancellationToken))
        {
            if (fact.Id == id) return fact;
        }
        return null;
    }
}
