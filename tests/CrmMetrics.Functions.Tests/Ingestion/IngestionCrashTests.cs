using Azure.Core;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Storage.Runs;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Ingestion;

/// <summary>
/// The crash rules of ingestion (README "Ingesting facts": a crash between any two writes loses no
/// acknowledged fact and counts no fact twice), with another instance's run racing in. Each test drives
/// the real services over a real Azurite, killing the ingesting instance before or after a chosen storage
/// request (<see cref="Interceptor"/>) or running another instance's step there, and checks what a user
/// would see. Found by a review that proved each with such a test.
/// </summary>
public class IngestionCrashTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    private static Fact Order(string id, DateOnly day, string customer, decimal amount = 100m, int hour = 9) =>
        new() { Id = id, Type = FactType.Order, Time = At(day, hour), CustomerId = customer, Channel = "web", Amount = amount, Currency = "EUR" };

    private static async Task<DayPartial?> StoredAsync(IServiceProvider services, DateOnly day) =>
        (await services.GetRequiredService<PartialStore>().ReadManyAsync([day], new FactLabels(), default)).Partials.SingleOrDefault();

    /// <summary>What a run's map step does: every dirty day aggregated.</summary>
    private static async Task AggregateDirtyDaysAsync(IServiceProvider services)
    {
        var aggregation = services.GetRequiredService<DayAggregation>();
        foreach (var dirty in await services.GetRequiredService<DirtyDayStore>().ListAsync(default)) await aggregation.AggregateAsync(dirty.Day, default);
    }

    private static bool IsAppend(HttpMessage m) =>
        Interceptor.Is(m, "/crm-fact-logs/") && m.Request.Uri.Query.Contains("comp=appendblock", StringComparison.Ordinal);

    /// <summary>Stores the facts on an instance that dies before its first append to a day log, or right after one that succeeded.</summary>
    private async Task StoreDyingAsync(Fact[] facts, bool beforeAppend)
    {
        var interceptor = new Interceptor();
        await using var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor);
        var appended = false;
        interceptor.Before = m =>
        {
            if (beforeAppend ? Interceptor.Is(m, "/crm-fact-logs/") : appended) interceptor.Killed = true;
            return ValueTask.CompletedTask;
        };
        interceptor.After = m => appended |= IsAppend(m) && m.Response.Status < 300;
        await Assert.ThrowsAnyAsync<Exception>(() => dying.GetRequiredService<FactIngestion>().StoreAsync(facts, default));
    }

    /// <summary>
    /// Ingestion marks a day before it appends the day's facts. Another instance's map step that reads that
    /// mark and the log before the append stores a partial without the fact and clears the mark. Before the
    /// fix the day was marked again only at the very end of the request: one that died after its commit
    /// (or failed later on, a timeline write timing out into a 503) left the fact stored, the day clean,
    /// and its resend a duplicate, which marks no day, so no run ever counted it. The day is now marked
    /// again after the append and before the commit: a request that dies before that mark has not
    /// committed, and the resend takes the claim over and marks the day itself.
    /// </summary>
    [Theory]
    [InlineData("after its commit")]
    [InlineData("after its append, before its commit")]
    public async Task A_fact_whose_request_died_after_a_run_read_its_day_before_the_append_is_counted_after_the_resend(string killed)
    {
        var day = killed == "after its commit" ? new DateOnly(2034, 3, 7) : new DateOnly(2034, 3, 8);
        var order = Order($"ic-own-{day.Day}", day, "IC-1");
        await using var other = await InProcessApp.StartAsync(azurite); // another instance, running a run's map step
        var interceptor = new Interceptor();
        await using (var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor))
        {
            var (raced, appended) = (false, false);
            interceptor.Before = async m =>
            {
                if (appended && killed != "after its commit" && !Interceptor.Is(m, "/crm-fact-logs/")) interceptor.Killed = true;
                // The first request to the fact logs: the day is marked, the fact not yet appended.
                if (raced || !Interceptor.Is(m, "/crm-fact-logs/")) return;
                raced = true;
                Assert.NotNull(await other.GetRequiredService<DirtyDayStore>().GetAsync(day, default));
                await other.GetRequiredService<DayAggregation>().AggregateAsync(day, default);
                Assert.Null(await other.GetRequiredService<DirtyDayStore>().GetAsync(day, default));
            };
            interceptor.After = m =>
            {
                if (IsAppend(m) && m.Response.Status < 300) appended = true;
                if (killed == "after its commit" && Interceptor.Is(m, "/FactWrites(") && m.Request.Method == RequestMethod.Put && m.Response.Status < 300) interceptor.Killed = true;
            };
            await Assert.ThrowsAnyAsync<Exception>(() => dying.GetRequiredService<FactIngestion>().StoreAsync([order], default));
            Assert.True(raced && appended);
        }

        // The client got no answer and sends the fact again (to an instance that takes a dead write's claim over at once).
        await using var restarted = await InterceptedApp.StartAsync(azurite.ConnectionString, new Interceptor(), ownerGrace: TimeSpan.Zero);
        Assert.Equal(killed == "after its commit" ? (0, 1) : (1, 0), await restarted.GetRequiredService<FactIngestion>().StoreAsync([order], default));
        Assert.NotNull(await restarted.GetRequiredService<FactStore>().GetAsync(order.Id, order.Time, default));

        // The next run counts it.
        await AggregateDirtyDaysAsync(restarted);
        Assert.Equal(1, (await StoredAsync(restarted, day))?.FactCount ?? 0);
    }

    /// <summary>
    /// Ingestion marks an observation's period stale, then stores the observation. A finalisation of the
    /// period (another instance's run) that read the mark, and the observations before the write, clears
    /// the mark once it promotes its version: before the fix nothing was marked after the write, so the
    /// period was left clean, its benchmarks computed without the observation, and no run recomputed
    /// them. No crash was needed. The period is now marked again once the observation is stored.
    /// </summary>
    [Fact]
    public async Task An_observation_stored_while_its_period_is_finalised_leaves_the_period_stale()
    {
        await using var other = await InProcessApp.StartAsync(azurite);
        var period = other.GetRequiredService<CrmMetrics.Functions.Hosting.CrmMetricsSettings>().Calendar.Parse("2034-02", CrmMetrics.Domain.Periods.Grain.Month);
        var finalizer = other.GetRequiredService<PeriodFinalizer>();
        var interceptor = new Interceptor();
        await using var ingesting = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor);
        FinalizedPeriod? raced = null;
        interceptor.Before = async m =>
        {
            // The first request to the observations table: the period is marked stale, the observation not yet stored.
            if (raced is not null || !Interceptor.Is(m, "/Observations")) return;
            raced = await finalizer.FinalizeAsync("run-ic-obs-1", period, default);
        };
        var observation = new Fact { Id = "ic-obs-1", Type = FactType.CompetitorObservation, Time = At(new DateOnly(2034, 3, 2), 16), Competitor = "IC-Rival", Indicator = "com.revenue", Value = 5000, PeriodKey = "2034-02" };
        Assert.Equal((1, 0), await ingesting.GetRequiredService<FactIngestion>().StoreAsync([observation], default));
        Assert.NotNull(raced);
        Assert.True(raced!.IsLatest);
        Assert.DoesNotContain(raced.Rows, r => r.Scope.Contains("IC-Rival", StringComparison.Ordinal));

        // The period stays stale, so the next run finalises it again, and that finalisation counts the observation.
        Assert.NotNull(await other.GetRequiredService<StalePeriodStore>().GetAsync("2034-02", default));
        var again = await finalizer.FinalizeAsync("run-ic-obs-2", period, default);
        Assert.Contains(again.Rows, r => r.Scope.Contains("IC-Rival", StringComparison.Ordinal));
    }

    /// <summary>
    /// A request dies after claiming an id, before its fact is committed; nothing was acknowledged. The
    /// client resends the id with its time corrected to another UTC day. Before the fix the claim's day alone
    /// made the resend a conflicting duplicate ("accepted 0, duplicates 1"), and when the first attempt had
    /// not reached the log the fact was stored nowhere. Such a claim is now decided as one on the same day
    /// is: taken over once its write is found abandoned, the fact appended on the resend's day, unless the
    /// first attempt reached its own day's log, where the fact then stays (counted once, a duplicate).
    /// </summary>
    [Theory]
    [InlineData("before its append")]
    [InlineData("after its append, before its commit")]
    public async Task A_resend_on_another_day_of_an_id_whose_claim_never_committed_is_stored_once(string killed)
    {
        var day = killed == "before its append" ? new DateOnly(2034, 7, 7) : new DateOnly(2034, 7, 17);
        var first = Order($"ic-day-{day.Day}", day, "IC-D", hour: 23);
        await StoreDyingAsync([first], beforeAppend: killed == "before its append");

        // The client resends with the time corrected, to an instance that takes a dead write's claim over at once.
        await using var restarted = await InterceptedApp.StartAsync(azurite.ConnectionString, new Interceptor(), ownerGrace: TimeSpan.Zero);
        var resent = Order(first.Id, day.AddDays(1), "IC-D", hour: 1);
        var result = await restarted.GetRequiredService<FactIngestion>().StoreAsync([resent], default);
        var facts = restarted.GetRequiredService<FactStore>();
        var onFirstDay = await facts.GetAsync(first.Id, first.Time, default);
        var onResentDay = await facts.GetAsync(resent.Id, resent.Time, default);
        if (killed == "before its append")
        {
            Assert.Equal((1, 0), result);
            Assert.Null(onFirstDay);
            Assert.Equal(resent.Time, onResentDay?.Time);
        }
        else
        {
            Assert.Equal((0, 1), result);
            Assert.Equal(first.Time, onFirstDay?.Time);
            Assert.Null(onResentDay);
        }

        // Either way the next run counts it once, and a further resend is a duplicate.
        await AggregateDirtyDaysAsync(restarted);
        Assert.Equal(1, ((await StoredAsync(restarted, day))?.FactCount ?? 0) + ((await StoredAsync(restarted, day.AddDays(1)))?.FactCount ?? 0));
        Assert.Equal((0, 1), await restarted.GetRequiredService<FactIngestion>().StoreAsync([resent], default));
    }

    /// <summary>
    /// A request dies after claiming an id, before committing; the client resends the id with a corrected
    /// amount (same day). Before the fix the resend always took the claim over and was answered "accepted",
    /// its fingerprint the claim's from then on; but when the first attempt had reached the log, readers kept
    /// that first occurrence, so the figures counted the unacknowledged amount. A takeover with other content
    /// now looks in the claim's day's log first: a fact found there stays the id's, and the resend is a
    /// duplicate; one not found is the resend's, accepted.
    /// </summary>
    [Theory]
    [InlineData("before its append")]
    [InlineData("after its append, before its commit")]
    public async Task The_answer_to_a_resend_with_another_amount_of_an_id_whose_claim_never_committed_matches_the_fact_counted(string killed)
    {
        var day = killed == "before its append" ? new DateOnly(2034, 9, 9) : new DateOnly(2034, 9, 19);
        var first = Order($"ic-amt-{day.Day}", day, "IC-A", amount: 100m);
        await StoreDyingAsync([first], beforeAppend: killed == "before its append");

        await using var restarted = await InterceptedApp.StartAsync(azurite.ConnectionString, new Interceptor(), ownerGrace: TimeSpan.Zero);
        var result = await restarted.GetRequiredService<FactIngestion>().StoreAsync([first with { Amount = 250m }], default);
        var stored = await restarted.GetRequiredService<FactStore>().GetAsync(first.Id, first.Time, default);
        Assert.Equal(killed == "before its append" ? ((1, 0), 250m) : ((0, 1), 100m), (result, stored!.Amount));

        await AggregateDirtyDaysAsync(restarted);
        Assert.Equal(1, (await StoredAsync(restarted, day))?.FactCount ?? 0);
    }

    /// <summary>
    /// The fact a request that never committed left in the log stays the id's when the resend has other
    /// content (see above); that request never reached the customer's timeline, so the resend applies the
    /// kept fact there, or the customer's other days would be attributed without it.
    /// </summary>
    [Fact]
    public async Task A_kept_fact_of_a_request_that_never_committed_reaches_its_customers_timeline()
    {
        var day = new DateOnly(2034, 10, 10);
        var first = new Fact { Id = "ic-kept-1", Type = FactType.CustomerAcquired, Time = At(day, 12), CustomerId = "IC-K", Channel = "web", Segment = "first", Region = "north" };
        await StoreDyingAsync([first], beforeAppend: false);

        await using var restarted = await InterceptedApp.StartAsync(azurite.ConnectionString, new Interceptor(), ownerGrace: TimeSpan.Zero);
        Assert.Equal((0, 1), await restarted.GetRequiredService<FactIngestion>().StoreAsync([first with { Segment = "second" }], default));
        var timeline = await restarted.GetRequiredService<CustomerStore>().GetTimelineAsync("IC-K", default);
        Assert.Equal("first", timeline?.Segment);
    }

    /// <summary>
    /// The resend that keeps such a fact applied it to the timeline after committing its takeover of the claim
    /// (found in review). A crash between the two left the fact counted in the day's figures and missing from the
    /// timeline, the customer's days attributed without it, and every later resend of the corrected content was a
    /// conflicting duplicate, which applies nothing. The kept fact is now applied before the takeover commits.
    /// </summary>
    [Fact]
    public async Task A_kept_fact_reaches_its_customers_timeline_when_the_resend_that_keeps_it_dies_right_after_its_commit()
    {
        var day = new DateOnly(2034, 11, 11);
        var first = new Fact { Id = "ic-kept-2", Type = FactType.CustomerAcquired, Time = At(day, 12), CustomerId = "IC-K2", Channel = "web", Segment = "first", Region = "north" };
        await StoreDyingAsync([first], beforeAppend: false);

        // The resend with a corrected segment keeps the first one, and its instance dies right after the takeover commits.
        var corrected = first with { Segment = "second" };
        var interceptor = new Interceptor();
        await using (var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor, ownerGrace: TimeSpan.Zero))
        {
            var committed = false;
            interceptor.After = m =>
            {
                committed |= Interceptor.Is(m, "/FactWrites(") && m.Request.Method == RequestMethod.Put && m.Response.Status < 300;
                interceptor.Killed |= committed;
            };
            await Assert.ThrowsAnyAsync<Exception>(() => dying.GetRequiredService<FactIngestion>().StoreAsync([corrected], default));
            Assert.True(committed);
        }

        // The client got no answer and sends the corrected one again: a conflicting duplicate now.
        await using var restarted = await InterceptedApp.StartAsync(azurite.ConnectionString, new Interceptor(), ownerGrace: TimeSpan.Zero);
        Assert.Equal((0, 1), await restarted.GetRequiredService<FactIngestion>().StoreAsync([corrected], default));
        Assert.Equal("first", (await restarted.GetRequiredService<CustomerStore>().GetTimelineAsync("IC-K2", default))?.Segment);

        // The next run counts the acquisition in the customer's segment.
        await AggregateDirtyDaysAsync(restarted);
        Assert.Contains("segment:first", (await StoredAsync(restarted, day))!.Scopes.Keys);
    }

    /// <summary>
    /// A request commits its facts and dies before it applies them to timelines, cases and observations; the
    /// client, given no answer, resends the ids with other content (a corrected segment, case or value, or a time
    /// on another day). Before the fix such a resend was a conflicting duplicate that applied nothing, so the first
    /// content stayed counted in the day's figures (the map step reads the day log) and missing from the timeline,
    /// the case and the observations until it was sent again unchanged. The resend now applies the stored facts,
    /// as a resend of the same facts does, and is still answered as duplicates.
    /// </summary>
    [Theory]
    [InlineData("the same day")]
    [InlineData("another day")]
    public async Task A_resend_with_other_content_of_facts_whose_request_died_after_its_commit_applies_the_stored_facts(string resentOn)
    {
        var day = resentOn == "the same day" ? new DateOnly(2035, 1, 10) : new DateOnly(2035, 1, 20);
        var tag = $"ic-late-{day.Day}";
        Fact[] stored =
        [
            new() { Id = $"{tag}-acq", Type = FactType.CustomerAcquired, Time = At(day, 12), CustomerId = $"{tag}-c", Channel = "web", Segment = "first", Region = "north" },
            new() { Id = $"{tag}-open", Type = FactType.ComplaintOpened, Time = At(day, 13), CustomerId = $"{tag}-c", CaseId = $"{tag}-case", Channel = "email", Severity = "high" },
            new() { Id = $"{tag}-obs", Type = FactType.CompetitorObservation, Time = At(day, 14), Competitor = $"{tag}-rival", Indicator = "com.revenue", Value = 5000, PeriodKey = "2035-01" },
        ];
        var interceptor = new Interceptor();
        await using (var dying = await InterceptedApp.StartAsync(azurite.ConnectionString, interceptor))
        {
            var committed = false;
            interceptor.After = m =>
            {
                committed |= Interceptor.Is(m, "/FactWrites(") && m.Request.Method == RequestMethod.Put && m.Response.Status < 300;
                interceptor.Killed |= committed;
            };
            await Assert.ThrowsAnyAsync<Exception>(() => dying.GetRequiredService<FactIngestion>().StoreAsync(stored, default));
            Assert.True(committed);
        }

        await using var restarted = await InProcessApp.StartAsync(azurite);
        var customers = restarted.GetRequiredService<CustomerStore>();
        var complaints = restarted.GetRequiredService<ComplaintStore>();
        var observations = restarted.GetRequiredService<ObservationStore>();
        async Task<double?> ObservedAsync() =>
            (await observations.ForPeriodAsync("2035-01", default)).SingleOrDefault(o => o.Competitor == $"{tag}-rival")?.Value;
        Assert.Null(await customers.GetTimelineAsync($"{tag}-c", default)); // the request died before the downstream state
        Assert.Null(await ObservedAsync());

        // The client got no answer and sends the facts again, corrected.
        var moved = resentOn == "another day" ? TimeSpan.FromDays(1) : TimeSpan.Zero;
        Fact[] corrected =
        [
            stored[0] with { Segment = "second", Time = stored[0].Time + moved },
            stored[1] with { CaseId = $"{tag}-other-case", Time = stored[1].Time + moved },
            stored[2] with { Value = 7000, Time = stored[2].Time + moved },
        ];
        Assert.Equal((0, 3), await restarted.GetRequiredService<FactIngestion>().StoreAsync(corrected, default));

        // The stored facts reached the state, as they were stored.
        var timeline = await customers.GetTimelineAsync($"{tag}-c", default);
        Assert.Equal([(stored[0].Id, stored[0].Time)], timeline?.Events.Select(e => (e.Id, e.Time)));
        Assert.Equal("first", timeline!.Segment);
        var cases = await complaints.GetManyAsync([$"{tag}-case", $"{tag}-other-case"], default);
        Assert.Equal([$"{tag}-case"], cases.Keys);
        Assert.Equal((stored[1].Id, stored[1].Time), (cases[$"{tag}-case"].Opened?.Id, cases[$"{tag}-case"].Opened?.Time));
        Assert.Equal(5000, await ObservedAsync());

        // The next run counts the acquisition in the customer's segment, on the day it was stored on.
        await AggregateDirtyDaysAsync(restarted);
        Assert.Contains("segment:first", (await StoredAsync(restarted, day))!.Scopes.Keys);
    }
}
