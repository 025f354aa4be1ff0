using CrmMetrics.Functions.OData;
using Microsoft.AspNetCore.OData.Formatter;
using CrmMetrics.Functions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CrmMetrics.Functions.Tests.BiAccess;

/// <summary>Server-driven paging over feed parts (pure: the parts are lists in memory).</summary>
public class ODataPagingTests
{
    /// <summary>Parts "000".."099" of one row each, the row being the part's number; counts the parts loaded.</summary>
    private sealed class Parts
    {
        public int Loaded;

        public IReadOnlyList<FeedPart<int>> Of(int count) => Enumerable.Range(0, count)
            .Select(i => new FeedPart<int>($"{i:D3}", _ =>
            {
                Interlocked.Increment(ref Loaded);
                return Task.FromResult<IReadOnlyList<int>>([i]);
            })).ToList();
    }

    private static async Task<List<List<int>>> AllPagesAsync(IReadOnlyList<FeedPart<int>> parts, Func<int, bool> keep, int skip = 0, int top = int.MaxValue, int pageSize = 1000)
    {
        var pages = new List<List<int>>();
        ODataFeed.Token? token = null;
        do
        {
            (var page, token) = await ODataFeed.PageInOrderAsync(parts, rows => rows.Where(keep).ToList(), token, token is null && pages.Count == 0 ? skip : 0, top, pageSize, default);
            pages.Add(page);
        } while (token is not null && pages.Count < 100);
        return pages;
    }

    [Fact]
    public async Task A_filter_few_rows_meet_ends_each_page_after_a_bounded_number_of_parts_and_loses_no_row()
    {
        // Found by probing: such filters were refused, while a filter of a dummy bound read every period for one page.
        var parts = new Parts();
        var pages = await AllPagesAsync(parts.Of(100), n => n is 0 or 99);
        Assert.Equal([0, 99], pages.SelectMany(p => p));
        Assert.Equal([[0], [], [99]], pages);
        Assert.Equal(100, parts.Loaded);
    }

    [Fact]
    public async Task A_skip_still_being_counted_off_ends_a_page_too_and_carries_over()
    {
        // Found in review: while $skip was being counted off, the cap never applied and one page read every part.
        var parts = new Parts();
        var all = parts.Of(100);
        var pages = new List<List<int>>();
        ODataFeed.Token? token = null;
        do
        {
            var before = parts.Loaded;
            (var page, token) = await ODataFeed.PageInOrderAsync(all, rows => rows.Where(n => n is 50 or 99).ToList(), token, pages.Count == 0 ? 1 : 0, int.MaxValue, 1000, default);
            Assert.InRange(parts.Loaded - before, 0, ODataFeed.MaxPartsPerPage);
            pages.Add(page);
        } while (token is not null && pages.Count < 10);
        Assert.Equal([99], pages.SelectMany(p => p));
        Assert.Equal(100, parts.Loaded);
    }

    [Fact]
    public async Task Skip_and_top_hold_across_short_pages()
    {
        Assert.Equal([99], (await AllPagesAsync(new Parts().Of(100), n => n is 0 or 99, skip: 1)).SelectMany(p => p));
        Assert.Equal([0], (await AllPagesAsync(new Parts().Of(100), n => n is 0 or 99, top: 1)).SelectMany(p => p));
        Assert.Equal(Enumerable.Range(0, 100), (await AllPagesAsync(new Parts().Of(100), _ => true, pageSize: 7)).SelectMany(p => p));
    }

    [Fact]
    public async Task Ordering_or_counting_reads_every_period_when_their_rows_are_few_and_stops_at_the_row_bound()
    {
        // Found by probing: the bound counted periods (24), so goal attainment in 40 periods of a few rows each could not be sorted or counted.
        var parts = new Parts();
        var (rows, count, tooMany) = await ODataFeed.ReadEveryRowAsync(parts.Of(100), r => r.Where(n => n % 2 == 0).ToList(), keep: true, default);
        Assert.Null(tooMany);
        Assert.Equal(50, count);
        Assert.Equal(Enumerable.Range(0, 50).Select(n => n * 2), rows);

        // Parts of many rows: refused once more rows than the bound were read, without reading the rest.
        var loaded = 0;
        var big = Enumerable.Range(0, 100).Select(i => new FeedPart<int>($"{i:D3}", _ =>
        {
            Interlocked.Increment(ref loaded);
            return Task.FromResult<IReadOnlyList<int>>(new int[ODataFeed.MaxRowsForEveryRow / 10]);
        })).ToList();
        (rows, _, tooMany) = await ODataFeed.ReadEveryRowAsync(big, r => r, keep: false, default);
        Assert.Contains("more than 200,000 rows", tooMany);
        Assert.Empty(rows);
        Assert.InRange(loaded, 11, 24);

        (_, _, tooMany) = await ODataFeed.ReadEveryRowAsync(new Parts().Of(ODataFeed.MaxPartsForEveryRow + 1), r => r, keep: false, default);
        Assert.Contains("1,001 periods", tooMany);
    }

    /// <summary>Parts of <paramref name="rows"/> rows each, saying so up front when <paramref name="known"/>; counts the parts loaded.</summary>
    private sealed class CountedParts(int rows, bool known)
    {
        public int Loaded;

        public IReadOnlyList<FeedPart<int>> Of(int count) => Enumerable.Range(0, count)
            .Select(i => new FeedPart<int>($"{i:D3}", _ =>
            {
                Interlocked.Increment(ref Loaded);
                return Task.FromResult<IReadOnlyList<int>>(Enumerable.Repeat(i, rows).ToArray());
            }, known ? rows : null)).ToList();
    }

    [Fact]
    public async Task Parts_known_to_hold_more_rows_than_the_bound_are_refused_before_any_is_read()
    {
        // Session 41: 900 periods were read (90 s) before the refusal, though each latest version records its rows.
        foreach (var keep in new[] { true, false })
        foreach (var filter in new Func<IReadOnlyList<int>, IReadOnlyList<int>>?[] { null, r => r.Where(n => n == 0).ToList() })
        {
            var parts = new CountedParts(250, known: true);
            var (rows, count, tooMany) = await ODataFeed.ReadEveryRowAsync(parts.Of(900), filter, keep, default);
            Assert.Contains("225,000 rows (at most 200,000)", tooMany);
            Assert.Contains("narrow $filter", tooMany);
            Assert.Equal((0, 0), (rows.Count, count));
            Assert.Equal(0, parts.Loaded);
        }
        // Parts whose count is unknown add nothing to the known ones, and do not hide them.
        var some = new CountedParts(2_001, known: true).Of(100).Concat(new CountedParts(1, known: false).Of(50)).ToList();
        Assert.Contains("200,100 rows", (await ODataFeed.ReadEveryRowAsync(some, null, keep: true, default)).TooMany);
    }

    [Fact]
    public async Task Parts_whose_count_is_unknown_are_read_and_answered_however_many_there_are()
    {
        // What a condition the table applies gives: the version's recorded count is only an upper bound, so the rows are read.
        var parts = new CountedParts(3, known: false);
        var (rows, count, tooMany) = await ODataFeed.ReadEveryRowAsync(parts.Of(900), r => r.Take(1).ToList(), keep: true, default);
        Assert.Null(tooMany);
        Assert.Equal(900, count);
        Assert.Equal(Enumerable.Range(0, 900), rows);
        Assert.Equal(900, parts.Loaded);
    }

    [Fact]
    public async Task Parts_known_to_hold_the_bound_are_read_and_counted_without_reading_when_nothing_filters_them()
    {
        var atBound = new CountedParts(ODataFeed.MaxRowsForEveryRow / 4, known: true);
        var (rows, count, tooMany) = await ODataFeed.ReadEveryRowAsync(atBound.Of(4), null, keep: true, default);
        Assert.Null(tooMany);
        Assert.Equal((ODataFeed.MaxRowsForEveryRow, ODataFeed.MaxRowsForEveryRow), (rows.Count, count));
        Assert.Equal(4, atBound.Loaded);

        // Counting every row of parts that all know theirs (the /$count segment with no $filter) reads none.
        var known = new CountedParts(7, known: true);
        (rows, count, tooMany) = await ODataFeed.ReadEveryRowAsync(known.Of(900), null, keep: false, default);
        Assert.Equal((0, 6_300, (string?)null), (rows.Count, count, tooMany));
        Assert.Equal(0, known.Loaded);
        // With a filter, or a part of unknown count, the rows are read.
        Assert.Equal(900, (await ODataFeed.ReadEveryRowAsync(known.Of(900), r => r.Take(1).ToList(), keep: false, default)).Count);
        Assert.Equal(900, known.Loaded);
        var mixed = known.Of(10).Concat(new CountedParts(1, known: false).Of(1)).ToList();
        Assert.Equal(71, (await ODataFeed.ReadEveryRowAsync(mixed, null, keep: false, default)).Count);
        Assert.Equal(910, known.Loaded);
    }

    [Fact]
    public void A_next_link_starts_at_the_published_address_whatever_host_the_request_names()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("evil.example");
        context.Request.Path = "/odata/Snapshots";
        context.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?code=k&$filter=Period%20eq%20'2026-03'&$skip=5");
        var token = new ODataFeed.Token("1|2026-03", 50, 50);
        var published = ODataFeed.NextLink(context.Request, token, "https://metrics.example.test/crm").AbsoluteUri;
        Assert.StartsWith("https://metrics.example.test/crm/odata/Snapshots?code=k&", published);
        Assert.Contains("skiptoken=", published);
        Assert.DoesNotContain("skip=5", published);
        // Without a published address the request's own is all there is.
        Assert.StartsWith("http://evil.example/odata/Snapshots?", ODataFeed.NextLink(context.Request, token, null).AbsoluteUri);
    }

    [Fact]
    public void With_a_published_address_the_odata_context_starts_there_as_the_next_links_do()
    {
        // Found by probing: @odata.context followed the Host the client named while next links followed CrmMetrics:PublicBaseUrl.
        List<ODataOutputFormatter> Formatters(string? publicBase)
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(publicBase is null ? [] : [new KeyValuePair<string, string?>("CrmMetrics:PublicBaseUrl", publicBase)]).Build();
            var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddLogging()
                .AddCrmMetricsHttp(CrmMetricsSettings.Load(configuration)).BuildServiceProvider();
            var mvc = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Mvc.MvcOptions>>().Value;
            var all = mvc.OutputFormatters.OfType<ODataOutputFormatter>().ToList();
            Assert.NotEmpty(all);
            return all;
        }
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("evil.example");
        context.Request.Path = "/odata/Snapshots";
        Assert.All(Formatters("https://metrics.example.test/crm/"), f => Assert.Equal("https://metrics.example.test/crm/odata/", f.BaseAddressFactory!(context.Request).AbsoluteUri));
        // Without one, the library's own default (the request's address) stays.
        Assert.All(Formatters(null), f => Assert.Null(f.BaseAddressFactory));
    }
}
