namespace CrmMetrics.Domain.Facts;

/// <summary>
/// One validated CRM fact. Type-specific members are flattened and null where the type has none,
/// so that storage maps one fact to one row without a nested document.
/// </summary>
public sealed record Fact
{
    public required string Id { get; init; }
    public required FactType Type { get; init; }
    public required DateTimeOffset Time { get; init; }
    public string? CustomerId { get; init; }
    public string? StaffId { get; init; }
    public string? Channel { get; init; }

    // customer.acquired / customer.churned
    public string? Segment { get; init; }
    public string? Region { get; init; }
    public string? Reason { get; init; }

    // interaction
    public string? Direction { get; init; }
    public bool? FirstContactResolution { get; init; }
    public double? HandleSeconds { get; init; }

    // order, deal.closed: Amount is in the reporting currency; the original is kept for lineage.
    public decimal? Amount { get; init; }
    public string? Currency { get; init; }
    public decimal? OriginalAmount { get; init; }

    // survey.response
    public string? Metric { get; init; }
    public int? Score { get; init; }

    // complaint.opened / complaint.resolved
    public string? CaseId { get; init; }
    public string? Severity { get; init; }
    public double? SlaHours { get; init; }

    // deal.closed
    public string? DealId { get; init; }
    public string? Outcome { get; init; }
    public string? Competitor { get; init; }

    // competitor.observation / market.observation
    public string? Indicator { get; init; }
    public double? Value { get; init; }
    public string? PeriodKey { get; init; }
}
