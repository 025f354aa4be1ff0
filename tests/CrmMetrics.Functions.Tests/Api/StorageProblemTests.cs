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
    public void A_write_is_told_that_no_record_was_half_written_and_part_may_be_stored(string method) =>
        Assert.Contains("no record was half-written, though part of the request may already be stored — retry it whole", Detail(method));

    [Theory]
    [InlineData("/api/events", true)]
    [InlineData("/API/Events", true)]
    [InlineData("/api/runs", false)]  // found by probing: a run request's 503 spoke of events
    [InlineData("/api/goals/g1", false)]
    public void Only_an_ingestion_is_told_its_repeats_count_as_duplicates(string path, bool mentionsEvents)
    {
        var detail = Assert.IsType<ProblemHttpResult>(HttpPipeline.ProblemFor(503, new TimeoutException(), "POST", path)).ProblemDetails.Detail!;
        Assert.Contains("retry it whole", detail);
        Assert.Equal(mentionsEvents, detail.Contains("events", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("POST")]
    public void A_write_that_kept_losing_to_concurrent_ones_is_a_503_to_retry_not_a_500(string method)
    {
        var error = new CrmMetrics.Storage.Account.ConcurrentChangeException("The incentive-plan 'q3' was not stored: other changes kept committing first.");
        Assert.Equal(503, HttpPipeline.StatusFor(error));
        Assert.Equal(503, HttpPipeline.StatusFor(new AggregateException(error)));
        var detail = Assert.IsType<ProblemHttpResult>(HttpPipeline.ProblemFor(503, error, method)).ProblemDetails.Detail!;
        Assert.Contains("changing the same data at the same moment", detail);
        Assert.DoesNotContain("Storage did not answer", detail);
    }
}
