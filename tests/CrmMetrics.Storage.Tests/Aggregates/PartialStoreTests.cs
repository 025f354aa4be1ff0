using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;
using CrmMetrics.Storage.Account;
using CrmMetrics.Storage.Aggregates;
using CrmMetrics.Testing;

namespace CrmMetrics.Storage.Tests.Aggregates;

public class PartialStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DayPartial Partial(DateOnly day, int resolutions)
    {
        var labels = new FactLabels();
        var facts = new FactColumns(labels);
        var time = new DateTimeOffset(day.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero);
        facts.Add(new Fact { Id = "o1", Type = FactType.Order, Time = time, CustomerId = "C/1", Channel = "web", StaffId = "S-1", Amount = 1234567.8912m, Currency = "EUR" });
        facts.Add(new Fact { Id = "o2", Type = FactType.Order, Time = time, CustomerId = "C-2", Amount = 0m, Currency = "EUR" });
        facts.Add(new Fact { Id = "i1", Type = FactType.Interaction, Time = time, CustomerId = "C-2", Channel = "phone", Direction = "inbound", FirstContactResolution = true, HandleSeconds = 12.5 });
        facts.Add(new Fact { Id = "s1", Type = FactType.SurveyResponse, Time = time, CustomerId = "C-2", Metric = "nps", Score = 9 });
        facts.Add(new Fact { Id = "d1", Type = FactType.DealClosed, Time = time, CustomerId = "C-3", StaffId = "S-1", Outcome = "won", Amount = -0.01m, Competitor = "Acme" });
        var dimensions = new CustomerDimensions(labels);
        dimensions.Set(labels.Customers.Code("C/1"), new CustomerDimension("smb", "north"));
        var aggregator = new DayAggregator(day, labels);
        aggregator.Add(facts, [0, 1, 2, 3, 4], dimensions);
        var churn = facts.Add(new Fact { Id = "l1", Type = FactType.CustomerChurned, Time = time, CustomerId = "C-2" });
        aggregator.AddLifecycle(facts, churn, LifecycleEffect.Churn, FactColumns.None, FactColumns.None);
        var acquired = facts.Add(new Fact { Id = "l2", Type = FactType.CustomerAcquired, Time = time, CustomerId = "C/1", Segment = "smb", Region = "north" });
        aggregator.AddLifecycle(facts, acquired, LifecycleEffect.New, labels.Segments.Code("smb"), labels.Regions.Code("north"));
        var resolve = facts.Add(new Fact { Id = "r1", Type = FactType.ComplaintResolved, Time = time, CustomerId = "C-2", CaseId = "K-1" });
        // Enough resolutions for the digest to become a sketch, with negative and zero durations too.
        for (var i = 0; i < resolutions; i++) aggregator.AddResolve(facts, resolve, new Resolution(i % 7 == 0 ? 0 : (i % 5 == 0 ? -1 : 1) * i * 0.37, i % 2 == 0, "chat", null, "C-2"), FactColumns.None, FactColumns.None);
        return aggregator.Result();
    }

    /// <summary>Stores a partial over whatever the day holds now.</summary>
    private static async Task WriteAsync(PartialStore store, DayPartial partial, CancellationToken ct) =>
        Assert.True(await store.TryReplaceAsync(partial, await store.VersionAsync(partial.Day, ct), ct));

    /// <summary>Everything a partial says, as text: scopes (sorted), tallies, deltas and cells by label.</summary>
    private static string Describe(DayPartial p)
    {
        var options = new JsonSerializerOptions { IncludeFields = true };
        var labels = p.Orders.Labels;
        var cells = Enumerable.Range(0, p.Orders.Count).Select(i => string.Join("|", labels.Customers.LabelOf(p.Orders.Customers[i]), labels.Channels.LabelOf(p.Orders.Channels[i]),
            labels.Staff.LabelOf(p.Orders.Staff[i]), labels.Segments.LabelOf(p.Orders.Segments[i]), labels.Regions.LabelOf(p.Orders.Regions[i]), p.Orders.Amounts[i])).Order();
        var moves = Enumerable.Range(0, p.Lifecycle.Count).Select(i => string.Join("|", labels.Customers.LabelOf(p.Lifecycle.Customers[i]),
            labels.Segments.LabelOf(p.Lifecycle.Segments[i]), labels.Regions.LabelOf(p.Lifecycle.Regions[i]), p.Lifecycle.Moves[i])).Order().ToList();
        return JsonSerializer.Serialize(new
        {
            p.Day, p.FactCount,
            Scopes = p.Scopes.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new { s.Key, s.Value, Hours = s.Value.ResolutionHours.Exact?.ToArray(), s.Value.ResolutionHours.Positive, s.Value.ResolutionHours.Negative, s.Value.ResolutionHours.Zeros }),
            Deals = p.DealsByCompetitor.OrderBy(d => d.Key), Deltas = p.ActiveDeltas.OrderBy(d => d.Key), Cells = cells, Moves = moves,
        }, options);
    }

    /// <summary>Stores bytes, gzipped, as a blob of the partials container (a partial not written by the store).</summary>
    private static async Task UploadGzippedAsync(StorageAccount account, string name, byte[] plain)
    {
        using var blob = new MemoryStream();
        await using (var gzip = new GZipStream(blob, CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(plain);
        blob.Position = 0;
        await account.Container(StorageNames.Containers.Partials).GetBlobClient(name).UploadAsync(blob);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(DurationDigest.ExactLimit + 10)]
    public async Task A_partial_reads_back_as_it_was_written(int resolutions)
    {
        var store = new PartialStore(await azurite.AccountAsync());
        var day = new DateOnly(2031, 1, 10 + resolutions % 7);
        var written = Partial(day, resolutions);
        Assert.Equal(2, written.Lifecycle.Count); // a churn and an acquisition: the round trip must carry them
        await WriteAsync(store, written, default);

        var read = await store.ReadManyAsync([day, day.AddDays(1)], new FactLabels(), default);
        Assert.Empty(read.Outdated);
        Assert.Equal(Describe(written), Describe(Assert.Single(read.Partials)));
    }

    [Fact]
    public async Task A_partial_is_replaced_or_removed_only_from_the_version_it_was_read_at()
    {
        var store = new PartialStore(await azurite.AccountAsync());
        var day = new DateOnly(2032, 4, 9);
        async Task<long?> StoredFactCount() => (await store.ReadManyAsync([day], new FactLabels(), default)).Partials.SingleOrDefault()?.FactCount;

        Assert.Null(await store.VersionAsync(day, default));
        Assert.True(await store.TryReplaceAsync(Partial(day, 1), null, default));
        var first = await store.VersionAsync(day, default);
        Assert.NotNull(first);
        // Another aggregation that also saw no partial is refused, and changes nothing.
        Assert.False(await store.TryReplaceAsync(Partial(day, 2), null, default));
        Assert.Equal(Partial(day, 1).FactCount, await StoredFactCount());

        Assert.True(await store.TryReplaceAsync(Partial(day, 3), first, default));
        var second = await store.VersionAsync(day, default);
        Assert.NotEqual(first, second);
        // One that read the first version is refused now, whether it replaces or removes.
        Assert.False(await store.TryReplaceAsync(Partial(day, 4), first, default));
        Assert.False(await store.TryDeleteAsync(day, first, default));
        Assert.Equal(Partial(day, 3).FactCount, await StoredFactCount());

        Assert.True(await store.TryDeleteAsync(day, second, default));
        Assert.Null(await store.VersionAsync(day, default));
        Assert.Null(await StoredFactCount());
        // A day that had none and still has none stays so.
        Assert.True(await store.TryDeleteAsync(day, null, default));
    }

    [Fact]
    public async Task Versions_asked_for_at_once_are_each_days_own()
    {
        var store = new PartialStore(await azurite.AccountAsync());
        DateOnly[] days = [new(2032, 5, 30), new(2032, 6, 1), new(2032, 6, 2), new(2033, 1, 1)];
        foreach (var day in days[..3]) await WriteAsync(store, Partial(day, 1), default);
        var alone = new List<Azure.ETag?>();
        foreach (var day in days) alone.Add(await store.VersionAsync(day, default));

        var together = await Task.WhenAll(days.Select(day => store.VersionAsync(day, default)));

        Assert.Equal(alone, together);
        Assert.All(together[..3], version => Assert.NotNull(version));
        Assert.Equal(3, together[..3].Distinct().Count());
        Assert.Null(together[3]);
    }

    [Fact]
    public async Task Versions_of_days_in_several_years_are_listed_a_year_at_a_time()
    {
        // A listing under the prefix the days of two years share ("days/20") would go through every
        // partial of the years between them.
        var account = await azurite.AccountAsync();
        var listings = new ListingPrefixes();
        var options = new Azure.Storage.Blobs.BlobClientOptions();
        options.AddPolicy(listings, Azure.Core.HttpPipelinePosition.PerCall);
        var blobs = new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString, options);
        var store = new PartialStore(new StorageAccount(account.Tables, account.Queues, account.RawQueues, blobs, "listings recorded"));
        DateOnly[] days = [new(2034, 12, 31), new(2035, 1, 1), new(2035, 1, 2)];
        await WriteAsync(store, Partial(new DateOnly(2034, 6, 1), 1), default);
        foreach (var day in days[..2]) await WriteAsync(store, Partial(day, 1), default);
        listings.Prefixes.Clear();

        // The grouped listing itself, with the three days in one group (calls that ask at once may not meet in one).
        var versions = await store.ListVersionsAsync([.. days]);

        Assert.Equal(days[..2], versions.Keys.Order());
        Assert.Equal(await store.VersionAsync(days[0], default), versions[days[0]]);
        Assert.All(listings.Prefixes, prefix => Assert.True(prefix.StartsWith("days/20341231", StringComparison.Ordinal) || prefix.StartsWith("days/2035010", StringComparison.Ordinal), prefix));
        Assert.NotEmpty(listings.Prefixes);
    }

    /// <summary>The prefixes of the blob listings a client sends.</summary>
    private sealed class ListingPrefixes : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Prefixes { get; } = [];

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            var query = System.Web.HttpUtility.ParseQueryString(message.Request.Uri.Query);
            if (query["comp"] == "list" && query["prefix"] is { } prefix) Prefixes.Add(prefix);
        }
    }

    [Fact]
    public async Task Partials_of_several_days_share_the_labels_they_are_read_into()
    {
        var store = new PartialStore(await azurite.AccountAsync());
        var days = new[] { new DateOnly(2031, 2, 1), new DateOnly(2031, 2, 2) };
        foreach (var day in days) await WriteAsync(store, Partial(day, 1), default);
        var labels = new FactLabels();
        var read = await store.ReadManyAsync(days, labels, default);
        Assert.All(read.Partials, p => Assert.Same(labels, p.Orders.Labels));
        Assert.Equal(["C/1", "C-2"], Enumerable.Range(0, labels.Customers.Count).Select(c => labels.Customers[c]));
    }

    [Fact]
    public async Task Partials_of_more_days_than_download_at_once_are_read_in_day_order_whatever_order_they_are_asked_in()
    {
        // Days download in parallel, in any order: the codes must follow the days, not which download
        // finished first or the order they were asked in. 40 days with a customer each, and days with none.
        var store = new PartialStore(await azurite.AccountAsync());
        var first = new DateOnly(2031, 5, 1);
        var days = Enumerable.Range(0, 50).Select(first.AddDays).ToArray();
        foreach (var day in days.Take(40))
        {
            var labels = new FactLabels();
            var partial = new DayPartial { Day = day, FactCount = 1, Orders = new OrderCells(labels) };
            partial.Orders.Add(labels.Customers.Code($"C-{day:MMdd}"), FactColumns.None, FactColumns.None, FactColumns.None, FactColumns.None, 1m);
            await WriteAsync(store, partial, default);
        }

        var into = new FactLabels();
        var read = await store.ReadManyAsync(days.Reverse().Concat(days.Where((_, i) => i % 2 == 0)).Distinct().ToArray(), into, default);

        Assert.Equal(days.Take(40), read.Partials.Select(p => p.Day));
        Assert.Equal(days.Take(40).Select(d => $"C-{d:MMdd}"), Enumerable.Range(0, into.Customers.Count).Select(c => into.Customers[c]));
        Assert.Empty(read.Outdated);
    }

    [Fact]
    public async Task A_day_with_only_a_partial_of_the_json_format_is_reported_outdated_until_it_is_written_again()
    {
        var account = await azurite.AccountAsync();
        var store = new PartialStore(account);
        var day = new DateOnly(2031, 3, 5);
        await UploadGzippedAsync(account, "days/20310305.json.gz", Encoding.UTF8.GetBytes("{\"format\":1,\"day\":\"2031-03-05\",\"factCount\":3}"));

        var read = await store.ReadManyAsync([day], new FactLabels(), default);
        Assert.Empty(read.Partials);
        Assert.Equal([day], read.Outdated);

        await WriteAsync(store, Partial(day, 1), default);
        await store.DeleteLegacyAsync(day, default);
        read = await store.ReadManyAsync([day], new FactLabels(), default);
        Assert.Single(read.Partials);
        Assert.Empty(read.Outdated);
    }

    [Fact]
    public async Task Labels_in_any_script_and_of_any_length_read_back_and_keep_their_codes_when_read_again()
    {
        var store = new PartialStore(await azurite.AccountAsync());
        var day = new DateOnly(2031, 4, 2);
        var labels = new FactLabels();
        var partial = new DayPartial { Day = day, FactCount = 3, Orders = new OrderCells(labels) };
        string[] customers = ["مشتری-۱", new string('x', 300), "C-1"];
        // The largest and a negative amount: their 96 bits need the longest varints of the format.
        decimal[] amounts = [decimal.MaxValue, -18_446_744_073_709.551615m, 10.5m];
        foreach (var (customer, i) in customers.Select((c, i) => (c, i)))
        {
            partial.Orders.Add(labels.Customers.Code(customer), labels.Channels.Code("وب"), FactColumns.None, labels.Segments.Code("smb"), FactColumns.None, amounts[i]);
        }
        await WriteAsync(store, partial, default);

        var into = new FactLabels();
        var first = Assert.Single((await store.ReadManyAsync([day], into, default)).Partials);
        var again = Assert.Single((await store.ReadManyAsync([day], into, default)).Partials);

        Assert.Equal(Describe(partial), Describe(first));
        Assert.Equal(customers, Enumerable.Range(0, into.Customers.Count).Select(c => into.Customers[c]));
        Assert.Equal(first.Orders.Customers.ToArray(), again.Orders.Customers.ToArray());
        Assert.Equal(first.Orders.Channels.ToArray(), again.Orders.Channels.ToArray());
    }

    [Fact]
    public async Task A_binary_partial_of_another_version_is_reported_outdated()
    {
        var account = await azurite.AccountAsync();
        var store = new PartialStore(account);
        var day = new DateOnly(2031, 4, 3);
        await UploadGzippedAsync(account, "days/20310403.bin.gz", "CMDP\u0001rest"u8.ToArray());

        var read = await store.ReadManyAsync([day], new FactLabels(), default);

        Assert.Empty(read.Partials);
        Assert.Equal([day], read.Outdated);
    }

    [Fact]
    public async Task A_partial_stored_as_several_gzip_members_reads_back_whole()
    {
        // Gzip allows members one after another; the last member's length trailer then tells only
        // part of the size, and the reader must grow its buffer rather than trust it.
        var account = await azurite.AccountAsync();
        var store = new PartialStore(account);
        var day = new DateOnly(2031, 4, 4);
        var labels = new FactLabels();
        var partial = new DayPartial { Day = day, FactCount = 2_000, Orders = new OrderCells(labels) };
        for (var i = 0; i < 2_000; i++) partial.Orders.Add(labels.Customers.Code($"C-{i}"), FactColumns.None, FactColumns.None, FactColumns.None, FactColumns.None, i + 0.25m);
        using var plain = new MemoryStream();
        DayPartialFormat.Write(plain, partial);
        var bytes = plain.ToArray();
        using var members = new MemoryStream();
        foreach (var part in new[] { bytes[..^100], bytes[^100..] })
        {
            await using var gzip = new GZipStream(members, CompressionLevel.Fastest, leaveOpen: true);
            await gzip.WriteAsync(part);
        }
        members.Position = 0;
        await account.Container(StorageNames.Containers.Partials).GetBlobClient("days/20310404.bin.gz").UploadAsync(members);

        var read = Assert.Single((await store.ReadManyAsync([day], new FactLabels(), default)).Partials);

        Assert.Equal(Describe(partial), Describe(read));
    }

    [Fact]
    public async Task A_partial_that_is_not_gzip_fails_the_read_with_what_is_wrong()
    {
        var account = await azurite.AccountAsync();
        var store = new PartialStore(account);
        var days = new[] { new DateOnly(2031, 4, 5), new DateOnly(2031, 4, 6), new DateOnly(2031, 4, 7) };
        await WriteAsync(store, Partial(days[0], 1), default);
        await account.Container(StorageNames.Containers.Partials).GetBlobClient("days/20310406.bin.gz").UploadAsync(BinaryData.FromString("not gzip"));
        await WriteAsync(store, Partial(days[2], 1), default);

        await Assert.ThrowsAsync<InvalidDataException>(() => store.ReadManyAsync(days, new FactLabels(), default));
    }
}
