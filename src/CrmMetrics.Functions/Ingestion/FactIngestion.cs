using System.Text.Json;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;

namespace CrmMetrics.Functions.Ingestion;

/// <summary>One event the ingestion could not accept, with its position in the request and its errors by field.</summary>
public sealed record RejectedItem(int Index, string? Id, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>The outcome of an ingestion, as <c>POST /api/events</c> reports it.</summary>
public sealed record IngestionResult(int Accepted, int Duplicates, IReadOnlyList<RejectedItem> Rejected);

/// <summary>An event as read from a request body or a queue message: parsed JSON, or why it could not be parsed and the text that could not (an NDJSON line).</summary>
public readonly record struct RawEvent(JsonElement Element, string? ParseError, string? UnparsedText = null)
{
    /// <summary>
    /// The event's text as it was sent, to keep with its rejection; bytes that are not UTF-8 read as
    /// U+FFFD (<see cref="JsonElement.GetRawText"/> would throw on them).
    /// </summary>
    public string? RawText => ParseError is null
        ? System.Text.Encoding.UTF8.GetString(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(Element))
        : UnparsedText;
}

/// <summary>
/// The single ingestion path behind both <c>POST /api/events</c> and the <c>crm-events</c> queue:
/// validate each event, store the valid ones once, and record which days need aggregating.
/// Order of writes: the days of the facts a request is about to append are marked dirty after their
/// ids are claimed and before the facts are written (a crash costs a needless re-aggregation, never a
/// lost fact), again once they are written and before the write is committed, and again at the end
/// (a run that read the day in between sees the timelines and cases written after the facts). The
/// mark before the commit is what a run that read the day's mark and log just before the append, and
/// cleared the mark after it, leaves behind; the one at the end alone did not do for that: a request
/// that died (or failed) after its commit left the day clean, and its resend is a duplicate, which
/// marks no day. Duplicates mark no day of their own: a resent batch leaves the next run nothing to
/// re-aggregate.
/// </summary>
public sealed class FactIngestion(
    FactValidator validator,
    FactStore facts,
    DirtyDayStore dirtyDays,
    CustomerStore customers,
    ComplaintStore complaints,
    ObservationStore observations,
    StalePeriodStore stalePeriods,
    Storage.Aggregates.PartialStore partials,
    CrmMetricsSettings settings,
    TimeProvider clock,
    ILogger<FactIngestion> logger)
{
    /// <summary>
    /// A test seam: runs after the aggregated days before a moved attribution's day were listed and
    /// marked, before the customer's timeline is written (the window a day aggregation can race into).
    /// </summary>
    internal Func<Task>? AttributionMoveListed { get; set; }

    public (List<Fact> Valid, List<RejectedItem> Rejected) Validate(IReadOnlyList<RawEvent> events)
    {
        var valid = new List<Fact>(events.Count);
        var rejected = new List<RejectedItem>();
        for (var i = 0; i < events.Count; i++)
        {
            var raw = events[i];
            if (raw.ParseError is not null)
            {
                rejected.Add(new RejectedItem(i, null, ValidationErrors.Single("event", raw.ParseError).ToDictionary()));
                continue;
            }
            if (validator.TryValidate(raw.Element, out var fact, out var errors)) valid.Add(fact!);
            else rejected.Add(new RejectedItem(i, IdOf(raw.Element), errors.ToDictionary()));
        }
        return (valid, rejected);
    }

    public async Task<IngestionResult> IngestAsync(IReadOnlyList<RawEvent> events, CancellationToken ct)
    {
        var (valid, rejected) = Validate(events);
        var (accepted, duplicates) = await StoreAsync(valid, ct);
        return new IngestionResult(accepted, duplicates, rejected);
    }

    /// <summary>Stores valid facts; returns how many were new and how many were duplicates.</summary>
    public async Task<(int Accepted, int Duplicates)> StoreAsync(IReadOnlyList<Fact> valid, CancellationToken ct)
    {
        if (valid.Count == 0) return (0, 0);
        var calendar = settings.Calendar;
        var distinct = valid.DistinctBy(f => f.Id, StringComparer.Ordinal).ToList();
        var repeatsInRequest = valid.Count - distinct.Count;

        // The days of the facts a write appends (new ones, or ones it takes over), marked before it appends them
        // and again before it commits them (one more mark a request, shared with the requests marking at the same time).
        var ownDays = new HashSet<DateOnly>();
        async Task MarkOwnDays(IReadOnlyList<Fact> appending, CancellationToken token)
        {
            var days = appending.Where(f => !f.Type.IsObservation()).Select(f => calendar.LocalDateOf(f.Time)).ToHashSet();
            lock (ownDays) ownDays.UnionWith(days);
            await dirtyDays.MarkAsync(days, token);
        }

        // Timelines, cases and observations are merged by fact id, so redelivered facts are applied
        // again harmlessly; that also repairs an earlier attempt that stopped after writing the facts.
        var today = calendar.LocalDateOf(clock.GetUtcNow());
        var derivedDays = new HashSet<DateOnly>();
        // What a fact changes elsewhere is marked before the state that reveals the change is written.
        var gate = new object();
        Task MarkDerived(IReadOnlyCollection<DateOnly> days)
        {
            // The new facts' own days were marked before they were appended, again before they were committed, and
            // are marked again at the end. A resent fact that repairs a timeline or case (its first attempt stopped
            // after committing it) needs no mark of its own day: that attempt marked it after appending and before
            // committing, and the mark stays until an aggregation that began after it, so read the fact, clears it;
            // that aggregation reads the fact into its timeline or case itself. The stores report the other days
            // whose meaning the repair changes.
            var others = days.Where(d => !ownDays.Contains(d)).ToList();
            lock (gate) derivedDays.UnionWith(others);
            return others.Count == 0 ? Task.CompletedTask : dirtyDays.MarkAsync(others, ct);
        }
        // A customer's attribution moved: its facts before the day the store marks from may be on any aggregated day.
        // Those days are marked before the timeline is written (a crash after the write leaves them marked; a retry
        // finds the timeline unchanged and marks nothing), and listed again once it is (see AggregatedDaysBeforeAsync).
        DateOnly? movedBefore = null;
        async Task MarkAggregatedDaysBefore(DateOnly before)
        {
            lock (gate) movedBefore = movedBefore > before ? movedBefore : before;
            await MarkDerived(await partials.DaysBeforeAsync(before, ct));
            if (AttributionMoveListed is { } listed) await listed();
        }
        var observedPeriods = new HashSet<string>(StringComparer.Ordinal);
        // Applies facts to the timelines, cases and observations. Resent facts are applied to rows read first, never
        // added blindly: an instance that has not met the customer or case since it started would otherwise mark the
        // days of an add that then finds the row there.
        async Task ApplyStateAsync(IReadOnlyList<Fact> applying, IReadOnlySet<string> resent)
        {
            // Timelines and cases are apart (their own tables, their own days to mark), so they are
            // applied at once, and their feed entries share appends.
            var lifecycle = applying.Where(f => f.Type.IsLifecycle()).ToList();
            var complaintFacts = applying.Where(f => f.Type.IsComplaint()).ToList();
            var timelines = lifecycle.Count > 0 ? Task.Run(() => customers.ApplyAsync(lifecycle, calendar.LocalDateOf, today, MarkDerived, ct, MarkAggregatedDaysBefore, resent), ct) : Task.CompletedTask;
            var cases = complaintFacts.Count > 0 ? Task.Run(() => complaints.ApplyAsync(complaintFacts, calendar.LocalDateOf, MarkDerived, ct, resent), ct) : Task.CompletedTask;
            await Task.WhenAll(timelines, cases);
            // An observation's period is marked stale before the observation is stored (a crash in between costs a
            // needless finalisation), and again at the end, with the days: a finalisation that read the first mark and
            // the observations before the write clears that mark once it promotes, and would leave the period clean
            // without the observation (the second mark is one more shared request, for requests with observations only).
            var observationFacts = applying.Where(f => f.Type.IsObservation()).ToList();
            if (observationFacts.Count == 0) return;
            var periods = observationFacts.Select(f => f.PeriodKey!).ToHashSet(StringComparer.Ordinal);
            lock (gate) observedPeriods.UnionWith(periods);
            await stalePeriods.MarkAsync(periods, ct);
            await observations.ApplyAsync(observationFacts, ct);
        }

        // Facts that a request which never committed left in the log stay their ids' facts in place of resends with
        // other content (readers count them). That request never got as far as the timelines, cases and observations,
        // so they are applied before the write that keeps them commits: once it has, their ids' resends are
        // conflicting duplicates, and a crash after the commit would leave them counted in the figures and missing from
        // the state until the next resend (which applies the stored fact in its place, below); before it, the resend
        // takes the claim over again and applies them again (a previous takeover may have, so they are applied as
        // resent facts are).
        Task ApplyKept(IReadOnlyList<Fact> kept, CancellationToken _) => ApplyStateAsync(kept, kept.Select(f => f.Id).ToHashSet(StringComparer.Ordinal));

        var written = await facts.InsertAsync(distinct, MarkOwnDays, MarkOwnDays, ct, ApplyKept);
        // A resend whose id was accepted with other content (a time on another day, another customer, case,
        // value...) changes nothing anywhere: in its place, the fact stored under its id is applied again below, as
        // the same fact resent is (harmless, and it repairs a request that died after its commit, before the state).
        if (written.Conflicting.Count > 0)
        {
            var conflicting = written.Conflicting.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
            distinct = [.. distinct.Where(f => !conflicting.Contains(f.Id)), .. written.StoredInstead];
            logger.LogWarning("{Count} events reuse the id of a fact accepted earlier with other content (first: {Id}); they count as duplicates, and the facts stored under their ids stand",
                conflicting.Count, written.Conflicting[0].Id);
        }
        await ApplyStateAsync(distinct, written.Duplicates.Select(f => f.Id).ToHashSet(StringComparer.Ordinal));
        // Marked with the rest at the end. One listing for every moved customer: the days before the latest of
        // their days hold the days before each.
        if (movedBefore is { } latest) derivedDays.UnionWith(await AggregatedDaysBeforeAsync(latest, ct));
        derivedDays.UnionWith(ownDays);

        var daysMarked = Concurrently.Started(() => dirtyDays.MarkAsync(derivedDays, ct));
        var periodsMarked = Concurrently.Started(() => stalePeriods.MarkAsync(observedPeriods, ct));
        await Task.WhenAll(daysMarked, periodsMarked);
        logger.LogInformation("Ingested {Accepted} new facts, {Duplicates} duplicates; {Days} days to aggregate",
            written.Accepted.Count, written.Duplicates.Count + repeatsInRequest, derivedDays.Count);
        return (written.Accepted.Count, written.Duplicates.Count + repeatsInRequest);
    }

    /// <summary>
    /// After moved timelines are written: the days before <paramref name="before"/> that an aggregation
    /// may have computed with the old timelines, to be marked again. The listing made before the write
    /// misses a day whose first partial an aggregation that read the old timeline stored after it. Such
    /// an aggregation stores its partial before it clears the day's mark (and only if the mark did not
    /// change since it began): a day whose mark is gone at the first listing here had its partial stored
    /// before, so the second names it; a day still marked is named by the first, and the mark made at the
    /// end makes that aggregation's clear fail (or follows it). Any aggregation that begins after the end
    /// mark reads the new timelines. Hence the order: dirty marks first, then partials.
    /// </summary>
    private async Task<IEnumerable<DateOnly>> AggregatedDaysBeforeAsync(DateOnly before, CancellationToken ct)
    {
        var dirty = await dirtyDays.ListAsync(ct);
        var aggregated = await partials.DaysBeforeAsync(before, ct);
        return dirty.Select(d => d.Day).Where(d => d < before).Concat(aggregated);
    }

    /// <summary>A rejected event's id, as far as it can be read (a broken member name makes the lookup throw).</summary>
    private static string? IdOf(JsonElement element)
    {
        var errors = new ValidationErrors();
        return element.ValueKind == JsonValueKind.Object ? new JsonFields(element, errors, self: "event").String("id", required: false) : null;
    }
}
