using System.Globalization;
using Azure.Data.Tables;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Account;

namespace CrmMetrics.Storage.Facts;

/// <summary>Maps a <see cref="Fact"/> to one table row with typed columns, and back: the Facts table of before the fact logs (<see cref="LegacyFactRows"/>).</summary>
public static class FactEntity
{
    public static TableEntity ToEntity(Fact f)
    {
        var e = new TableEntity(StorageKeys.FactPartition(f.Time, f.Id), f.Id)
        {
            ["Type"] = f.Type.Name(),
            ["Time"] = f.Time.ToUniversalTime(),
            ["Offset"] = (int)f.Time.Offset.TotalMinutes,
        };
        Set(e, "CustomerId", f.CustomerId);
        Set(e, "StaffId", f.StaffId);
        Set(e, "Channel", f.Channel);
        Set(e, "Segment", f.Segment);
        Set(e, "Region", f.Region);
        Set(e, "Reason", f.Reason);
        Set(e, "Direction", f.Direction);
        if (f.FirstContactResolution is { } fcr) e["Fcr"] = fcr;
        if (f.HandleSeconds is { } hs) e["HandleSeconds"] = hs;
        if (f.Amount is { } amount) e["Amount"] = amount.ToString(CultureInfo.InvariantCulture);
        Set(e, "Currency", f.Currency);
        if (f.OriginalAmount is { } original) e["OriginalAmount"] = original.ToString(CultureInfo.InvariantCulture);
        Set(e, "Metric", f.Metric);
        if (f.Score is { } score) e["Score"] = score;
        Set(e, "CaseId", f.CaseId);
        Set(e, "Severity", f.Severity);
        if (f.SlaHours is { } sla) e["SlaHours"] = sla;
        Set(e, "DealId", f.DealId);
        Set(e, "Outcome", f.Outcome);
        Set(e, "Competitor", f.Competitor);
        Set(e, "Indicator", f.Indicator);
        if (f.Value is { } value) e["Value"] = value;
        Set(e, "Period", f.PeriodKey);
        return e;
    }

    public static Fact FromEntity(TableEntity e)
    {
        FactTypes.TryParse(e.GetString("Type"), out var type);
        var utc = e.GetDateTimeOffset("Time")!.Value;
        var offset = TimeSpan.FromMinutes(e.GetInt32("Offset") ?? 0);
        return new Fact
        {
            Id = e.RowKey,
            Type = type,
            Time = utc.ToOffset(offset),
            CustomerId = e.GetString("CustomerId"),
            StaffId = e.GetString("StaffId"),
            Channel = e.GetString("Channel"),
            Segment = e.GetString("Segment"),
            Region = e.GetString("Region"),
            Reason = e.GetString("Reason"),
            Direction = e.GetString("Direction"),
            FirstContactResolution = e.GetBoolean("Fcr"),
            HandleSeconds = e.GetDouble("HandleSeconds"),
            Amount = ParseDecimal(e.GetString("Amount")),
            Currency = e.GetString("Currency"),
            OriginalAmount = ParseDecimal(e.GetString("OriginalAmount")),
            Metric = e.GetString("Metric"),
            Score = e.GetInt32("Score"),
            CaseId = e.GetString("CaseId"),
            Severity = e.GetString("Severity"),
            SlaHours = e.GetDouble("SlaHours"),
            DealId = e.GetString("DealId"),
            Outcome = e.GetString("Outcome"),
            Competitor = e.GetString("Competitor"),
            Indicator = e.GetString("Indicator"),
            Value = e.GetDouble("Value"),
            PeriodKey = e.GetString("Period"),
        };
    }

    private static void Set(TableEntity e, string name, string? value)
    {
        if (value is not null) e[name] = value;
    }

    private static decimal? ParseDecimal(string? text) =>
        text is null ? null : decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);
}
