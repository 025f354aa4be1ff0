using CrmMetrics.Functions.Api;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>GET /api/snapshots answers CSV only when the Accept header prefers it to JSON, quality values and wildcards included.</summary>
public class ContentNegotiationTests
{
    [Theory]
    [InlineData("text/csv", true)]
    [InlineData("text/csv, */*;q=0.8", true)]
    [InlineData("text/csv, */*", true)]
    [InlineData("application/json;q=0.5, text/csv", true)]
    [InlineData("text/csv;q=0.1, application/json", false)]
    [InlineData("text/csv;q=0", false)]
    [InlineData("application/json, text/csv", true)]
    [InlineData("application/json, text/csv;q=0.9", false)]
    [InlineData("*/*", false)]
    [InlineData("application/json", false)]
    [InlineData("", false)]
    [InlineData("not a media type", false)]
    // Found by probing: text/* answered JSON, which is no text/* type.
    [InlineData("text/*", true)]
    [InlineData("text/*, */*;q=0.5", true)]
    [InlineData("text/*, application/json", false)]
    [InlineData("text/*;q=0.5, */*", false)]
    [InlineData("text/csv;q=0, text/*", false)]
    // Found by review: JSON took the quality of */* over that of its own, lower, named entry.
    [InlineData("text/*, application/json;q=0.5, */*", true)]
    [InlineData("text/csv;q=0.8, application/json;q=0.5, */*", true)]
    [InlineData("text/*;q=0.9, application/json;q=0.8", true)]
    [InlineData("*/*, text/*", false)]
    [InlineData("application/*;q=0.2, text/csv;q=0.3", true)]
    public void Csv_is_chosen_only_when_preferred(string accept, bool csv) =>
        Assert.Equal(csv, SnapshotsFunctions.PrefersCsv(accept));
}
