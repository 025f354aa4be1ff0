using Azure;
using Azure.Data.Tables;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Tests.Account;

public class RowCacheTests
{
    [Fact]
    public void A_cached_row_comes_back_as_a_copy_with_the_etag_it_was_stored_with()
    {
        var cache = new RowCache();
        var row = new TableEntity("p", "r") { ["Value"] = 1 };
        cache.Set(row, new ETag("W/\"1\""));
        row["Value"] = 2;

        Assert.True(cache.TryGet("p", "r", out var cached));
        Assert.Equal(1, cached["Value"]);
        Assert.Equal(new ETag("W/\"1\""), cached.ETag);
        cached["Value"] = 3;
        Assert.True(cache.TryGet("p", "r", out var again));
        Assert.Equal(1, again["Value"]);
        Assert.False(cache.TryGet("p", "other", out _));
    }

    [Fact]
    public void The_cache_stays_bounded_and_keeps_rows_in_use()
    {
        var cache = new RowCache(capacity: 100);
        cache.Set(new TableEntity("p", "hot"), new ETag("1"));
        for (var i = 0; i < 1000; i++)
        {
            cache.Set(new TableEntity("p", $"r{i}"), new ETag("1"));
            Assert.True(cache.TryGet("p", "hot", out _), $"the row in use was forgotten after {i} others");
            Assert.True(cache.Count <= 100);
        }
        Assert.False(cache.Contains("p", "r0"));
    }

    [Fact]
    public void A_forgotten_row_is_no_longer_served()
    {
        var cache = new RowCache();
        cache.Set(new TableEntity("p", "r"), new ETag("1"));
        cache.Forget("p", "r");
        Assert.False(cache.TryGet("p", "r", out _));
    }
}
