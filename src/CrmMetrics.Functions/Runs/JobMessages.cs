using System.Globalization;
using System.Text.Json;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Functions.Runs;

/// <summary>A queue message that asks to plan and start a run.</summary>
/// <param name="Trigger">
/// <c>schedule</c> for a timer occurrence, whose run this message creates (so a run exists only once its
/// start message was delivered); null for a run the API created before sending it.
/// </param>
public sealed record StartRunJob(string RunId, string? Trigger = null);

/// <summary>A queue message that asks to aggregate one local day for a run.</summary>
public sealed record DayJob(string RunId, DateOnly Day);

/// <summary>A queue message that asks to finalise one period for a run.</summary>
public sealed record PeriodJob(string RunId, Grain Grain, string Period);

/// <summary>A queue message that records a finalised period on its run, after the period's alerts were sent.</summary>
/// <param name="Invocation">The delivery that finalised it: the alerts it claimed count as delivered once this is read.</param>
public sealed record PeriodDoneJob(string RunId, Grain Grain, string Period, int Version, int Rows, string? Invocation = null);

/// <summary>The run fan-out messages: how they are written, and how a received one is checked field by field.</summary>
public static class JobMessages
{
    public static string Write(StartRunJob job) => job.Trigger is null
        ? JsonSerializer.Serialize(new { runId = job.RunId })
        : JsonSerializer.Serialize(new { runId = job.RunId, trigger = job.Trigger });

    public static string Write(DayJob job) => JsonSerializer.Serialize(new { runId = job.RunId, day = IsoDay.Text(job.Day) });

    public static string Write(PeriodJob job) => JsonSerializer.Serialize(new { runId = job.RunId, grain = Grains.Key(job.Grain), period = job.Period });

    public static string Write(PeriodDoneJob job) =>
        JsonSerializer.Serialize(new { runId = job.RunId, grain = Grains.Key(job.Grain), period = job.Period, version = job.Version, rows = job.Rows, invocation = job.Invocation });

    public static PeriodDoneJob ReadPeriodDone(string? text) => Read(text, (f, e) =>
    {
        var runId = RunId(f);
        var grain = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be day, week, month, quarter or year");
        var period = f.String("period", true, s => s.Length is > 0 and <= 20 ? null : "must be a period key");
        var version = f.Integer("version", true, 1, int.MaxValue);
        var rows = f.Integer("rows", true, 0, int.MaxValue);
        var invocation = f.String("invocation", false, s => s.Length is > 0 and <= 512 ? null : "must be 1–512 characters");
        return e.IsEmpty && Grains.TryParse(grain, out var g) ? new PeriodDoneJob(runId!, g, period!, version!.Value, rows!.Value, invocation) : null!;
    });

    public static StartRunJob ReadStartRun(string? text) => Read(text, (f, e) =>
        new StartRunJob(RunId(f)!, f.String("trigger", false, s => s is RunPlanner.ScheduleTrigger ? null : $"must be '{RunPlanner.ScheduleTrigger}' when present")));

    public static DayJob ReadDay(string? text) => Read(text, (f, e) =>
    {
        var runId = RunId(f);
        // A day a fact can fall on: from 1900 to tomorrow in any time zone (a run plans only days that hold facts).
        var latest = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(2);
        var earliest = DateOnly.FromDateTime(Domain.Facts.FactValidator.EarliestTime.UtcDateTime).AddDays(-1);
        var day = f.String("day", true, s => !DateOnly.TryParseExact(s, IsoDay.Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? "must be a date yyyy-MM-dd"
            : d < earliest || d > latest ? $"must be a day facts can fall on, from {IsoDay.Text(earliest)} to {IsoDay.Text(latest)}" : null);
        return e.IsEmpty ? new DayJob(runId!, DateOnly.ParseExact(day!, IsoDay.Format, CultureInfo.InvariantCulture)) : null!;
    });

    public static PeriodJob ReadPeriod(string? text) => Read(text, (f, e) =>
    {
        var runId = RunId(f);
        var grain = f.String("grain", true, s => Grains.TryParse(s, out _) ? null : "must be day, week, month, quarter or year");
        var period = f.String("period", true, s => s.Length is > 0 and <= 20 ? null : "must be a period key");
        return e.IsEmpty && Grains.TryParse(grain, out var g) ? new PeriodJob(runId!, g, period!) : null!;
    });

    private static string? RunId(JsonFields f) =>
        f.String("runId", true, s => Domain.Facts.Vocabulary.IsKey(s) ? null : "must be a run id (1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-')");

    private static T Read<T>(string? text, Func<JsonFields, ValidationErrors, T> read)
    {
        var errors = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(text)) throw new ValidationException(errors.Add("message", "is empty"));
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ValidationException(errors.Add("message", "is not JSON: " + e.Message));
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ValidationException(errors.Add("message", "must be a JSON object"));
            var result = read(new JsonFields(doc.RootElement, errors, self: "message"), errors);
            if (!errors.IsEmpty) throw new ValidationException(errors);
            return result;
        }
    }
}
