using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Functions.Api;

/// <summary>A snapshot row as clients read it (contract/api.md), with family-specific details beside.</summary>
public sealed record SnapshotRowDto(
    string Indicator,
    string Family,
    string Scope,
    string Grain,
    string Period,
    object? Value,
    string Unit,
    string Direction,
    string Kind,
    long FactCount,
    DateTimeOffset ComputedAt,
    string RunId,
    int Version,
    JsonObject? Details)
{
    public static SnapshotRowDto From(SnapshotRow row) => new(
        row.Indicator, row.Family, row.Scope, Grains.Key(row.Grain), row.Period,
        // Money stays exact: decimal where the row has it, else the number. Written without the trailing
        // zeros its arithmetic left (500.0, 1000000000000000.0000000000000), as a double is written (500).
        row.Exact is { } exact ? Trimmed(exact) : row.Value,
        row.Unit,
        row.Direction == Domain.Indicators.Direction.Higher ? "higher" : "lower",
        row.Kind == IndicatorKind.External ? "external" : "internal",
        row.FactCount, row.ComputedAt, row.RunId, row.Version, row.Details);

    /// <summary>The same value with no trailing zeros after the point (dividing by 1 at the largest scale normalises it).</summary>
    public static decimal Trimmed(decimal value) => value / 1.0000000000000000000000000000m;
}
