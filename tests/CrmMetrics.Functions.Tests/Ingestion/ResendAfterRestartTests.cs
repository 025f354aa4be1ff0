using CrmMetrics.Domain.Facts;
using CrmMetrics.Functions.Ingestion;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Storage.Facts;
using CrmMetrics.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.Ingestion;

/// <summary>
/// A batch resent to an instance that has not met its customers and cases since it started (a new
/// instance, or the demo's second start): every fact is a duplicate, and no day may be marked, as for a
/// resend to the instance that stored them. Found by probing: such an instance adds a customer or case
/// whose facts include its opening without reading it first, marked the days of those facts for that add,
/// and only then learned that the row existed, so the next run aggregated every such day again.
/// </summary>
public class ResendAfterRestartTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DateTimeOffset At(DateOnly day, int hour) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    private static IReadOnlyList<Fact> Batch(DateOnly first, string tag = "rr") =>
    [
        new() { Id = $"{tag}-acq", Type = FactType.CustomerAcquired, Time = At(first, 9), CustomerId = $"{tag}-1", Channel = "web", Segment = "smb", Region = "north" },
        new() { Id = $"{tag}-churn", Type = FactType.CustomerChurned, Time = At(first.AddDays(3), 9), CustomerId = $"{tag}-1" },
        new() { Id = $"{tag}-open", Type = FactType.ComplaintOpened, Time = At(first.AddDays(1), 10), CustomerId = $"{tag}-1", CaseId = $"{tag}-case", Channel = "email", Severity = "high" },
        new() { Id = $"{tag}-resolve", Type = FactType.ComplaintResolved, Time = At(first.AddDays(2), 10), CaseId = $"{tag}-case", Channel = "email" },
        new() { Id = $"{tag}-order", Type = FactType.Order, Time = At(first.AddDays(2), 11), CustomerId = $"{tag}-1", Channel = "web", Amount = 10m, Currency = "EUR" },
    ];

    private static async Task ClearMarksAsync(IServiceProvider services, IReadOnlySet<DateOnly> days)
    {
        var marks = services.GetRequiredService<DirtyDayStore>();
        foreach (var mark in (await marks.ListAsync(default)).Where(m => days.Contains(m.Day))) Assert.True(await marks.ClearAsync(mark, default));
    }

    private static async Task<IReadOnlySet<DateOnly>> MarkedAsync(IServiceProvider services, IReadOnlySet<DateOnly> days) =>
        (await services.GetRequiredService<DirtyDayStore>().ListAsync(default)).Select(m => m.Day).Where(days.Contains).ToHashSet();

    [Fact]
    public async Task A_batch_resent_to_a_new_instance_marks_no_day()
    {
        var first = new DateOnly(2033, 2, 1);
        var days = Enumerable.Range(0, 4).Select(first.AddDays).ToHashSet();
        await using (var storing = await InProcessApp.StartAsync(azurite))
        {
            Assert.Equal((5, 0), await storing.GetRequiredService<FactIngestion>().StoreAsync(Batch(first), default));
            await ClearMarksAsync(storing, days); // as the map step does once it has read the days
        }

        await using var restarted = await InProcessApp.StartAsync(azurite);
        Assert.Equal((0, 5), await restarted.GetRequiredService<FactIngestion>().StoreAsync(Batch(first), default));
        Assert.Empty(await MarkedAsync(restarted, days));
    }

    [Fact]
    public async Task A_resend_that_repairs_a_write_stopped_after_its_facts_still_writes_the_rows_and_marks_what_they_change()
    {
        // The first write stopped after appending its facts, before the customer and case rows: a run read
        // the days meanwhile without them (the resolve with no open, the churn of no known customer).
        var first = new DateOnly(2033, 3, 1);
        var days = Enumerable.Range(0, 4).Select(first.AddDays).ToHashSet();
        await using (var stopped = await InProcessApp.StartAsync(azurite))
        {
            var written = await stopped.GetRequiredService<FactStore>().InsertAsync(Batch(first, "rp"), default);
            Assert.Equal(5, written.Accepted.Count);
            await ClearMarksAsync(stopped, days);
        }

        await using var restarted = await InProcessApp.StartAsync(azurite);
        Assert.Equal((0, 5), await restarted.GetRequiredService<FactIngestion>().StoreAsync(Batch(first, "rp"), default));
        var timeline = await restarted.GetRequiredService<CustomerStore>().GetTimelineAsync("rp-1", default);
        Assert.Equal(2, timeline!.Events.Count);
        Assert.True((await restarted.GetRequiredService<ComplaintStore>().GetManyAsync(["rp-case"], default))["rp-case"].Resolved is not null);
        // The customer's attribution and the resolve's open are new to the stored state: their days are aggregated again.
        Assert.Equal(new HashSet<DateOnly> { first, first.AddDays(2), first.AddDays(3) }, await MarkedAsync(restarted, days));
    }
}
