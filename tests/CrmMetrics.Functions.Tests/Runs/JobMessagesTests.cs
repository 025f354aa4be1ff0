using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Runs;

namespace CrmMetrics.Functions.Tests.Runs;

/// <summary>The run fan-out messages: what is written reads back, and a bad message names its field.</summary>
public class JobMessagesTests
{
    [Fact]
    public void A_done_message_carries_the_delivery_that_finalised_it_and_an_older_one_without_it_still_reads()
    {
        var job = new PeriodDoneJob("run-1", Grain.Month, "2026-10", 3, 557, "msg-42");
        Assert.Equal(job, JobMessages.ReadPeriodDone(JobMessages.Write(job)));
        Assert.Null(JobMessages.ReadPeriodDone("""{"runId":"run-1","grain":"month","period":"2026-10","version":3,"rows":557}""").Invocation);
    }

    [Theory]
    [InlineData("""{"runId":"run-1","grain":"month","period":"2026-10","version":3,"rows":5,"invocation":""}""", "invocation")]
    [InlineData("""{"runId":"run-1","grain":"month","period":"2026-10","version":0,"rows":5}""", "version")]
    [InlineData("""{"runId":"run 1","grain":"month","period":"2026-10","version":1,"rows":5}""", "runId")]
    [InlineData("""{"runId":"run-1","grain":"decade","period":"2026-10","version":1,"rows":5}""", "grain")]
    [InlineData("""[1,2]""", "message")]
    public void A_bad_done_message_is_rejected_naming_the_field(string text, string field)
    {
        var error = Assert.Throws<ValidationException>(() => JobMessages.ReadPeriodDone(text));
        Assert.True(error.Errors.Has(field), error.Message);
    }

    [Theory]
    [InlineData("""{"runId":"run-1","day":"9999-12-31"}""", "day")]
    [InlineData("""{"runId":"run-1","day":"1800-01-01"}""", "day")]
    [InlineData("""{"runId":"run-1","day":"2026-02-30"}""", "day")]
    public void A_day_no_fact_can_fall_on_is_a_bad_day_message(string text, string field)
    {
        var error = Assert.Throws<ValidationException>(() => JobMessages.ReadDay(text));
        Assert.True(error.Errors.Has(field), error.Message);
    }

    [Fact]
    public void A_start_message_of_a_scheduled_run_names_its_trigger_and_one_from_the_api_has_none()
    {
        var scheduled = new StartRunJob("sched-20261202T081500", "schedule");
        Assert.Equal(scheduled, JobMessages.ReadStartRun(JobMessages.Write(scheduled)));
        Assert.Equal("""{"runId":"run-1"}""", JobMessages.Write(new StartRunJob("run-1")));
        Assert.Null(JobMessages.ReadStartRun("""{"runId":"run-1"}""").Trigger);
    }

    [Theory]
    [InlineData("""{"runId":"sched-1","trigger":"cron"}""", "trigger")]
    [InlineData("""{"runId":"sched-1","trigger":7}""", "trigger")]
    [InlineData("""{"trigger":"schedule"}""", "runId")]
    public void A_bad_start_message_is_rejected_naming_the_field(string text, string field)
    {
        var error = Assert.Throws<ValidationException>(() => JobMessages.ReadStartRun(text));
        Assert.True(error.Errors.Has(field), error.Message);
    }
}
