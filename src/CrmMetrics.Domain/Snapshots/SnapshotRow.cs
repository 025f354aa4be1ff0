using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Snapshots;

/// <summary>
/// One (indicator, scope, grain, period) value at one computation — the contract's snapshot row.
/// <see cref="Exact"/> keeps money exact (decimal) where <see cref="Value"/> is its number;
/// <see cref="Details"/> carries family-specific members (goal fields, ranks, payout statements).
/// </summary>
public sealed record SnapshotRow
{
    public required string Indicator { get; init; }
    public required string Family { get; init; }
    public required string Scope { get; init; }
    public required Grain Grain { get; init; }
    public required string Period { get; init; }
    public double? Value { get; init; }
    public decimal? Exact { get; init; }
    public required string Unit { get; init; }
    public required Direction Direction { get; init; }
    public required IndicatorKind Kind { get; init; }
    public long FactCount { get; init; }
    public DateTimeOffset ComputedAt { get; init; }
    public string RunId { get; init; } = "";
    public int Version { get; init; }
    public JsonObject? Details { get; init; }

    public static SnapshotRow From(IndicatorDefinition definition, string scope, Period period, IndicatorValue value, JsonObject? details = null) => new()
    {
        Indicator = definition.Id,
        Family = definition.Family,
        Scope = scope,
        Grain = period.Grain,
        Period = period.Key,
        Value = value.Value is { } v && double.IsFinite(v) ? v : null,
        Exact = value.Exact,
        Unit = definition.Unit,
        Direction = definition.Direction,
        Kind = definition.Kind,
        FactCount = value.FactCount,
        Details = details,
    };
}
