using CrmMetrics.Functions.OData;

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
}
