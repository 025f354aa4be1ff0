using System.Text.Json;
using CrmMetrics.Demo;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>The demo says why sample events were rejected, most common reason first.</summary>
public class RejectionReasonsTests
{
    private static JsonElement Answer(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Reasons_are_counted_over_every_answer_most_common_first()
    {
        var reasons = new RejectionReasons();
        reasons.Add(Answer("""{"accepted":1,"duplicates":0,"rejected":[{"index":0,"id":"c1","errors":{"data.period":["is 621 years ahead"]}},{"index":1,"id":"m1","errors":{"data.period":["is 621 years ahead"],"data.value":["must be at least 0"]}}]}"""));
        reasons.Add(Answer("""{"accepted":0,"duplicates":0,"rejected":[{"index":0,"id":"o1","errors":{"data.currency":["no exchange rate for USD"]}},{"index":1,"id":"c2","errors":{"data.period":["is 621 years ahead"]}}]}"""));

        Assert.Equal(
        [
            "rejected 3 x: data.period is 621 years ahead",
            "rejected 1 x: data.currency no exchange rate for USD",
            "rejected 1 x: data.value must be at least 0",
        ], reasons.Lines());
        Assert.Equal("... and 1 other reasons (POST /api/events lists each event's)", reasons.Lines(top: 2)[^1]);
    }

    [Fact]
    public void Nothing_rejected_says_nothing()
    {
        var reasons = new RejectionReasons();
        reasons.Add(Answer("""{"accepted":5,"duplicates":2,"rejected":[]}"""));
        Assert.Empty(reasons.Lines());
    }
}
