using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Http;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>If-None-Match as RFC 9110 reads it: weak comparison, lists, and "*".</summary>
public class EntityTagsTests
{
    private const string Tag = "\"abc123\"";

    [Theory]
    [InlineData("\"abc123\"", true)]
    [InlineData("W/\"abc123\"", true)]
    [InlineData("\"other\", W/\"abc123\"", true)]
    [InlineData("*", true)]
    [InlineData("\"other\"", false)]
    [InlineData("\"abc12\"", false)]
    [InlineData("W/\"abc1234\"", false)]
    [InlineData("", false)]
    public void A_held_tag_matches_weakly_in_a_list_or_as_a_wildcard(string header, bool notModified)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.IfNoneMatch = header;
        Assert.Equal(notModified, EntityTags.IsNotModified(context.Request, Tag));
        // A weak tag of ours compares the same way.
        Assert.Equal(notModified, EntityTags.IsNotModified(context.Request, "W/" + Tag));
    }

    [Fact]
    public void Without_the_header_nothing_matches() =>
        Assert.False(EntityTags.IsNotModified(new DefaultHttpContext().Request, Tag));
}
