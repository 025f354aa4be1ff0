using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Lifecycle;

namespace CrmMetrics.Domain.Tests.Lifecycle;

public class ComplaintCaseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_resolve_that_arrives_before_its_open_is_counted_once_the_open_arrives()
    {
        var complaint = new ComplaintCase("K1", [new ComplaintEvent("r", FactType.ComplaintResolved, T0.AddHours(30), "C1")]);
        Assert.Null(complaint.ResolutionFor("r", 48));
        complaint.Add([new ComplaintEvent("o", FactType.ComplaintOpened, T0, "C1", "phone", "S1", SlaHours: 24)]);
        var resolution = complaint.ResolutionFor("r", 48)!;
        Assert.Equal(30, resolution.Hours, 9);
        Assert.False(resolution.WithinSla);
        Assert.Equal("phone", resolution.Channel);
        Assert.Equal("S1", resolution.StaffId);
    }

    [Fact]
    public void Only_the_earliest_resolve_counts_and_the_default_sla_applies_without_one()
    {
        var complaint = new ComplaintCase("K2",
        [
            new ComplaintEvent("o", FactType.ComplaintOpened, T0),
            new ComplaintEvent("r2", FactType.ComplaintResolved, T0.AddHours(50), Channel: "email"),
            new ComplaintEvent("r1", FactType.ComplaintResolved, T0.AddHours(47)),
        ]);
        Assert.Null(complaint.ResolutionFor("r2", 48));
        var first = complaint.ResolutionFor("r1", 48)!;
        Assert.True(first.WithinSla);
        Assert.Equal(47, first.Hours, 9);
    }
}
