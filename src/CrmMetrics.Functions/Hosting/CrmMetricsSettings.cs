using System.Globalization;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Security;

namespace CrmMetrics.Functions.Hosting;

/// <summary>
/// The product's settings (section <c>CrmMetrics</c>), read and checked once at start-up. A bad
/// setting stops the app with a message naming it, instead of surfacing later as wrong numbers.
/// </summary>
public sealed class CrmMetricsSettings
{
    public required PeriodCalendar Calendar { get; init; }
    public required string ReportingCurrency { get; init; }
    public required IReadOnlyDictionary<string, decimal> ExchangeRates { get; init; }
    public required string DeploymentName { get; init; }
    public required double DefaultSlaHours { get; init; }
    public required IReadOnlyList<Grain> Grains { get; init; }
    public required IReadOnlyList<ApiKey> Keys { get; init; }

    /// <summary>Rows per page of the OData feed (server-driven paging).</summary>
    public int ODataPageSize { get; init; } = 1000;

    /// <summary>
    /// How many days after its end a period still raises alerts; null (unset): every period does. For loading
    /// history: without it, the first computation of years of periods tells executives of every goal missed then.
    /// </summary>
    public int? AlertHorizonDays { get; init; }

    /// <summary>
    /// How long an HTTP request waits for one storage answer before it answers 503 (a request that got
    /// none is not tried again; failures that do answer are retried as usual). See <see cref="CrmMetrics.Storage.Account.StorageAnswerLimit"/>.
    /// </summary>
    public TimeSpan HttpStorageTimeout { get; init; } = TimeSpan.FromSeconds(DefaultHttpStorageTimeoutSeconds);

    public const int DefaultHttpStorageTimeoutSeconds = 20;

    /// <summary>The longest <see cref="HttpStorageTimeout"/>. It bounds one storage answer, not the request: keep it well under the 230 s after which Azure's front end gives up on a request.</summary>
    public const int MaxHttpStorageTimeoutSeconds = 200;

    /// <summary>Per-key rate limits on ingestion and reads.</summary>
    public RateLimits RateLimits { get; init; } = RateLimits.Defaults;

    /// <summary>The zone the timers' schedules are read in (<c>WEBSITE_TIME_ZONE</c>, as the Functions host reads it; UTC when unset).</summary>
    public TimeZoneInfo ScheduleZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Public base URL used in links (alerts, run output); defaults to the request's.</summary>
    public string? PublicBaseUrl { get; init; }

    /// <summary>The largest exchange rate taken (units of reporting currency per unit): far beyond any real one.</summary>
    public const decimal MaxExchangeRate = 1_000_000_000_000m;

    /// <summary>The longest default SLA, in hours.</summary>
    public const double MaxSlaHours = 87_600;

    // Month and day names, which hold letters that are operators elsewhere (JUL, WED).
    private static readonly System.Text.RegularExpressions.Regex NamesOf = new("JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// What is wrong with a timer schedule, as the Functions host reads one: a 6-field NCRONTAB expression
    /// (second minute hour day month day-of-week) or a positive time span (hh:mm:ss); null when it reads.
    /// </summary>
    public static string? ScheduleProblem(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal) && !text.Contains(' ', StringComparison.Ordinal))
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var interval) && interval > TimeSpan.Zero ? null : $"'{JsonFields.Truncate(text)}' is not a positive time span (hh:mm:ss)";
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6)
            return $"'{JsonFields.Truncate(text)}' must have 6 fields: second minute hour day month day-of-week (for example 0 */15 * * * *)";
        // Cronos (which reads it here) also knows Quartz's L, W, # and ?; the Functions host's NCRONTAB does
        // not, so such a schedule would run here and fail in Azure.
        if (fields.FirstOrDefault(f => NamesOf.Replace(f, "").IndexOfAny(['L', 'l', 'W', 'w', '#', '?']) >= 0) is { } extended)
            return $"'{JsonFields.Truncate(text)}' uses '{JsonFields.Truncate(extended)}': NCRONTAB has no L, W, # or ? (use lists and ranges such as 1-7 for days of the month, MON-FRI for days of the week)";
        // Cronos takes 7 for Sunday too; NCRONTAB numbers the days of the week 0 (Sunday) to 6.
        if (NamesSeven(fields[5]))
            return $"'{JsonFields.Truncate(text)}' has 7 in its day-of-week field: NCRONTAB numbers the days 0 (Sunday) to 6 (use 0 or SUN for Sunday)";
        try
        {
            // A date no calendar has (31 February) parses, and the timer would never fire.
            return Cronos.CronExpression.Parse(text, Cronos.CronFormat.IncludeSeconds).GetNextOccurrence(DateTime.UtcNow) is null
                ? $"'{JsonFields.Truncate(text)}' never comes: no date matches it (such as 31 February)"
                : null;
        }
        catch (Cronos.CronFormatException e)
        {
            return $"'{JsonFields.Truncate(text)}' is not a valid NCRONTAB expression: {e.Message}";
        }
    }

    /// <summary>Whether a day-of-week field names day 7 (alone, in a list or in a range; a step after '/' is not a day).</summary>
    internal static bool NamesSeven(string field) =>
        field.Split(',').Any(part => part.Split('/')[0].Split('-').Any(day => day.Trim() == "7"));

    private static readonly string[] Settings =
        ["ReportingCurrency", "Calendar", "TimeZone", "ExchangeRates", "DefaultSlaHours", "Grains", "Keys", "PublicBaseUrl", "DeploymentName", "ODataPageSize", "RateLimits", "AlertHorizonDays", "HttpStorageTimeoutSeconds"];
    private static readonly string[] RateLimitSettings = ["IngestPerSecond", "IngestBurst", "ReadsPerSecond", "ReadsBurst"];

    /// <summary>The settings that are sections of named settings (a currency's rate, a limit, a key), not values.</summary>
    private static readonly string[] Sections = ["ExchangeRates", "RateLimits", "Keys"];

    /// <summary>
    /// Adds an error for each setting of the section that is not one of <paramref name="known"/> (blank ones count as
    /// unset), for a name under a known setting that takes a value (<c>CrmMetrics:Calendar:x</c>, or a JSON array's
    /// <c>CrmMetrics:Grains:0</c>), and for a value given to a section itself (<c>CrmMetrics:ExchangeRates=USD=0.9</c>):
    /// each would otherwise be ignored without a word (found by probing).
    /// </summary>
    private static void Unknown(IConfigurationSection section, string path, string[] known, ValidationErrors errors)
    {
        foreach (var child in section.GetChildren())
        {
            var name = known.FirstOrDefault(k => string.Equals(k, child.Key, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                if (string.IsNullOrWhiteSpace(child.Value) && !child.GetChildren().Any()) continue;
                errors.Add($"{path}:{child.Key}", $"is not a setting (misspelled?); the settings of {path} are {string.Join(", ", known)}");
            }
            else if (Sections.Contains(name, StringComparer.Ordinal))
            {
                // (CrmMetrics:Keys given a value is refused where the keys are read.)
                if (name != "Keys" && !string.IsNullOrWhiteSpace(child.Value))
                    errors.Add($"{path}:{child.Key}", $"is a section, not a value: set each of its entries as {path}:{name}:<name> (CrmMetrics__{name}__<name> in the environment)");
            }
            else if (child.GetChildren().Any(c => !string.IsNullOrWhiteSpace(c.Value) || c.GetChildren().Any()))
            {
                errors.Add($"{path}:{child.Key}", $"takes one value, not settings under it ({string.Join(", ", child.GetChildren().Select(c => c.Path))})"
                    + (name == "Grains" ? "; give the grains as one comma-separated value, such as month,week" : ""));
            }
        }
    }

    /// <summary>
    /// A setting's value, or null when it is unset. One left blank (an app setting cleared in the
    /// portal, `VAR=` in a shell) counts as unset and takes its default, for every setting alike.
    /// </summary>
    private static string? Value(IConfiguration configuration, string name) =>
        configuration[name] is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;

    public static CrmMetricsSettings Load(IConfiguration configuration)
    {
        var errors = new ValidationErrors();
        var section = configuration.GetSection("CrmMetrics");
        string? Set(string name) => Value(section, name);

        // The timers' schedules: unset turns a timer off; set but unreadable would leave it off without a word.
        foreach (var schedule in (string[])["KpiSchedule", "AlertDigestSchedule"])
        {
            if (Value(configuration, schedule) is { } text && ScheduleProblem(text) is { } problem) errors.Add(schedule, problem);
        }

        // The Functions host reads the schedules in this zone; one it does not know leaves every timer off.
        var scheduleZone = TimeZoneInfo.Utc;
        if (Value(configuration, "WEBSITE_TIME_ZONE") is { } zoneName && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out scheduleZone))
        {
            errors.Add("WEBSITE_TIME_ZONE", $"'{JsonFields.Truncate(zoneName)}' is not a time zone this machine knows (an IANA name such as Asia/Tehran, or a Windows one such as Iran Standard Time); it sets the zone of KpiSchedule and AlertDigestSchedule");
            scheduleZone = TimeZoneInfo.Utc;
        }

        var currency = Set("ReportingCurrency") ?? "EUR";
        // Found by probing: XYZ passed as "three capital letters", and every EUR order was then refused.
        if (!Vocabulary.IsCurrencyCode(currency)) errors.Add("CrmMetrics:ReportingCurrency", "must be an ISO 4217 code of three capital letters");
        else if (!Vocabulary.IsKnownCurrency(currency)) errors.Add("CrmMetrics:ReportingCurrency", $"'{currency}' is not a currency ISO 4217 lists (EUR, USD, IRR…)");

        if (!PeriodCalendar.TryCreate(Set("Calendar"), Set("TimeZone"), out var calendar, out _))
        {
            // Each setting's problem on its own, so both are fixed at once (found by probing: a bad zone beside a bad calendar went unsaid).
            if (!PeriodCalendar.TryCreate(Set("Calendar"), null, out _, out var calendarError)) errors.Add("CrmMetrics:Calendar", calendarError);
            if (!PeriodCalendar.TryCreate(null, Set("TimeZone"), out _, out var zoneError)) errors.Add("CrmMetrics:TimeZone", zoneError);
        }

        var rates = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var rate in section.GetSection("ExchangeRates").GetChildren())
        {
            if (string.IsNullOrWhiteSpace(rate.Value) && !rate.GetChildren().Any()) continue; // blank: unset, as every setting
            if (!Vocabulary.IsKnownCurrency(rate.Key)) errors.Add($"CrmMetrics:ExchangeRates:{rate.Key}", "the key must be a currency ISO 4217 lists");
            else if (rate.Key == currency) errors.Add($"CrmMetrics:ExchangeRates:{rate.Key}", $"is the reporting currency, whose rate is 1 by definition; remove it");
            // A decimal point only: with thousands separators allowed, "0,9" (a decimal comma) would read as 9.
            else if (!decimal.TryParse(rate.Value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > MaxExchangeRate)
                errors.Add($"CrmMetrics:ExchangeRates:{rate.Key}", $"must be a positive number of at most {MaxExchangeRate} (units of reporting currency per unit), written with a decimal point; got '{JsonFields.Truncate(rate.Value ?? "")}'");
            else rates[rate.Key] = value;
        }

        var sla = 48.0;
        if (Set("DefaultSlaHours") is { } slaText && (!double.TryParse(slaText, NumberStyles.Float, CultureInfo.InvariantCulture, out sla) || !(sla > 0) || sla > MaxSlaHours))
            errors.Add("CrmMetrics:DefaultSlaHours", $"must be a positive number of hours, at most {MaxSlaHours} (ten years)");

        var grains = new List<Grain>();
        foreach (var name in (Set("Grains") ?? "day,week,month,quarter,year").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Domain.Periods.Grains.TryParse(name, out var grain)) { if (!grains.Contains(grain)) grains.Add(grain); }
            else errors.Add("CrmMetrics:Grains", $"'{name}' is not one of day, week, month, quarter, year");
        }
        if (grains.Count == 0 && !errors.Has("CrmMetrics:Grains")) errors.Add("CrmMetrics:Grains", "must name at least one grain");

        var keys = ApiKey.LoadAll(section.GetSection("Keys"), errors);

        var publicBase = Set("PublicBaseUrl");
        // It starts the links in alerts an executive clicks: an http(s) address, nothing else.
        if (publicBase is not null && (!Uri.TryCreate(publicBase, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https") || baseUri.Query.Length > 0 || baseUri.Fragment.Length > 0))
            errors.Add("CrmMetrics:PublicBaseUrl", "must be an absolute http or https address without a query or fragment, such as https://metrics.example.com");

        var deployment = Set("DeploymentName") ?? "local";
        // It is the alerts' CloudEvents source (/crm-metrics/<name>), a URI reference.
        if (!Vocabulary.IsKey(deployment)) errors.Add("CrmMetrics:DeploymentName", "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");

        var pageSize = 1000;
        if (Set("ODataPageSize") is { } pageText && (!int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 5000))
            errors.Add("CrmMetrics:ODataPageSize", "must be a whole number from 1 to 5000");

        int? horizon = null;
        if (Set("AlertHorizonDays") is { } horizonText)
        {
            if (int.TryParse(horizonText, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days <= 36_500) horizon = days;
            else errors.Add("CrmMetrics:AlertHorizonDays", "must be a whole number of days from 0 to 36500 (how long after its end a period still raises alerts); leave it unset for no limit");
        }

        var storageTimeout = DefaultHttpStorageTimeoutSeconds;
        if (Set("HttpStorageTimeoutSeconds") is { } timeoutText && (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out storageTimeout) || storageTimeout is < 1 or > MaxHttpStorageTimeoutSeconds))
            errors.Add("CrmMetrics:HttpStorageTimeoutSeconds", $"must be a whole number of seconds from 1 to {MaxHttpStorageTimeoutSeconds} (how long an HTTP request waits for a storage answer before it answers 503)");

        var limits = section.GetSection("RateLimits");
        RateLimit Limit(string name, RateLimit fallback)
        {
            int Read(string field, int value)
            {
                if (Value(limits, name + field) is not { } text) return value;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 1_000_000) return n;
                errors.Add($"CrmMetrics:RateLimits:{name}{field}", "must be a whole number from 0 (no limit) to 1000000");
                return value;
            }
            var perSecond = Read("PerSecond", fallback.PerSecond);
            var burst = Read("Burst", Math.Max(fallback.Burst, perSecond));
            if (perSecond > 0 && burst < perSecond) errors.Add($"CrmMetrics:RateLimits:{name}Burst", $"must be at least {name}PerSecond ({perSecond})");
            return new RateLimit(perSecond, Math.Max(burst, 1));
        }
        var rateLimits = new RateLimits(Limit("Ingest", RateLimits.Defaults.Ingest), Limit("Reads", RateLimits.Defaults.Reads));

        // A misspelled setting would otherwise be ignored without a word (CrmMetrics:ReportingCurency
        // leaves every money figure in the default currency).
        Unknown(section, "CrmMetrics", Settings, errors);
        Unknown(limits, "CrmMetrics:RateLimits", RateLimitSettings, errors);

        if (!errors.IsEmpty) throw new SettingsException(errors);
        return new CrmMetricsSettings
        {
            Calendar = calendar!,
            ReportingCurrency = currency,
            ExchangeRates = rates,
            DeploymentName = deployment,
            DefaultSlaHours = sla,
            Grains = grains,
            Keys = keys,
            PublicBaseUrl = publicBase?.TrimEnd('/'),
            ODataPageSize = pageSize,
            RateLimits = rateLimits,
            AlertHorizonDays = horizon,
            HttpStorageTimeout = TimeSpan.FromSeconds(storageTimeout),
            ScheduleZone = scheduleZone!,
        };
    }
}

public sealed class SettingsException(ValidationErrors errors) : Exception("Invalid settings: " + errors)
{
    public ValidationErrors Errors { get; } = errors;
}
