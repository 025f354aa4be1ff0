using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CrmMetrics.Functions.Tests.Api;

/// <summary>The 503 a request answers when storage fails under it says what the caller can do for that kind of request.</summary>
public class StorageProblemTests
{
    private static string Detail(string method) =>
        Assert.IsType<ProblemHttpResult>(HttpPipeline.ProblemFor(503, new TimeoutException(), method)).ProblemDetails.Detail!;

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public void A_read_is_told_to_retry_without_a_word_about_events(string method)
    {
        Assert.Equal("Storage did not answer; retry the request shortly.", Detail(method));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    public void A_write_is_told_that_nothing_was_half_written(string method) =>
        Assert.Contains("nothing was half-written", Detail(method));
}
