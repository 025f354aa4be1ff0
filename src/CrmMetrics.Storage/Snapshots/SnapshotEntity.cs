using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Snapshots;

/// <summary>
/// Maps snapshot rows to table rows: one partition per (grain, period, version), row key (indicator, scope).
/// A version written again by another delivery of its run's job goes to a partition of that attempt's own,
/// named by the version and the attempt (see <see cref="SnapshotStore.PromoteAsync(Period, int, string, DateTimeOffset, int, CancellationToken, string?)"/>).
/// </summary>
public static class SnapshotEntity
{
    public static string Partition(Grain grain, string period, int version, string? attempt) =>
        $"{Grains.Key(grain)}|{StorageKeys.Encode(period)}|{version.ToString("D6", CultureInfo.InvariantCulture)}" + (attempt is null ? "" : "|" + attempt);

    public static string Row(string indicator, string scope) => $"{StorageKeys.Encode(indicator)}|{StorageKeys.Encode(scope)}";

    public static TableEntity ToEntity(SnapshotRow row, string? attempt)
    {
        var e = new TableEntity(Partition(row.Grain, row.Period, row.Version, attempt), Row(row.Indicator, row.Scope))
        {
            ["Indicator"] = row.Indicator,
            ["Family"] = row.Family,
            ["Scope"] = row.Scope,
            ["Grain"] = Grains.Key(row.Grain),
            ["Period"] = row.Period,
            ["Unit"] = row.Unit,
            ["Direction"] = row.Direction == Direction.Higher ? "higher" : "lower",
            ["Kind"] = row.Kind == IndicatorKind.External ? "external" : "internal",
            ["FactCount"] = row.FactCount,
            ["ComputedAt"] = row.ComputedAt,
            ["RunId"] = row.RunId,
            ["Version"] = row.Version,
        };
        if (row.Value is { } value) e["Value"] = value;
        if (row.Exact is { } exact) e["Exact"] = exact.ToString(CultureInfo.InvariantCulture);
        if (row.Details is not null) StorageJson.Write(e, "Details", row.Details);
        return e;
    }

    public static SnapshotRow FromEntity(TableEntity e)
    {
        Grains.TryParse(e.GetString("Grain"), out var grain);
        return new SnapshotRow
        {
            Indicator = e.GetString("Indicator")!,
            Family = e.GetString("Family")!,
            Scope = e.GetString("Scope")!,
            Grain = grain,
            Period = e.GetString("Period")!,
            Value = e.GetDouble("Value"),
            Exact = e.GetString("Exact") is { } exact ? decimal.Parse(exact, NumberStyles.Number, CultureInfo.InvariantCulture) : null,
            Unit = e.GetString("Unit")!,
            Direction = e.GetString("Direction") == "lower" ? Direction.Lower : Direction.Higher,
            Kind = e.GetString("Kind") == "internal" ? IndicatorKind.Internal : IndicatorKind.External,
            FactCount = e.GetInt64("FactCount") ?? 0,
            ComputedAt = e.GetDateTimeOffset("ComputedAt") ?? default,
            RunId = e.GetString("RunId") ?? "",
            Version = e.GetInt32("Version") ?? 0,
            Details = StorageJson.Read<JsonObject>(e, "Details"),
        };
    }
}
