using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Facts;

/// <summary>What validation needs to know about the deployment.</summary>
public sealed record FactRules
{
    public required PeriodCalendar Calendar { get; init; }
    public string ReportingCurrency { get; init; } = "EUR";

    /// <summary>Units of reporting currency per one unit of the keyed currency.</summary>
    public IReadOnlyDictionary<string, decimal> ExchangeRates { get; init; } = new Dictionary<string, decimal>();

    /// <summary>Indicator ids a competitor may report (the catalog's ids plus <c>market-share</c>).</summary>
    public required Func<string, bool> IsReportableIndicator { get; init; }

    /// <summary>How far ahead of the clock a fact's time may be (clocks of CRM systems drift).</summary>
    public static readonly TimeSpan DefaultFutureTolerance = TimeSpan.FromMinutes(5);

    public TimeSpan FutureTolerance { get; init; } = DefaultFutureTolerance;
}

/// <summary>
/// Turns one JSON event into a <see cref="Fact"/> or into errors naming each bad field,
/// following contract/events.md. One bad event never affects another.
/// </summary>
public sealed partial class FactValidator(FactRules rules, TimeProvider clock)
{
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,100})?([Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    public FactRules Rules => rules;

    /// <summary>The earliest fact time accepted: every calendar and Table Storage handle it.</summary>
    public static readonly DateTimeOffset EarliestTime = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The largest magnitude of amounts and figures: far above any real one, far below where sums could overflow.</summary>
    public const double MaxMagnitude = 1e15;

    public bool TryValidate(JsonElement element, out Fact? fact, out ValidationErrors errors)
    {
        errors = new ValidationErrors();
        fact = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add("event", $"must be a JSON object, not {JsonFields.Describe(element)}");
            return false;
        }

        var f = new JsonFields(element, errors, self: "event");
        var id = f.String("id", required: true, s => Vocabulary.IsKey(s) ? null : "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var typeName = f.String("type", required: true, s => FactTypes.TryParse(s, out _) ? null : $"must be one of {string.Join(", ", FactTypes.AllNames)}; got '{JsonFields.Truncate(s)}'");
        var time = ReadTime(f);
        FactTypes.TryParse(typeName, out var type);
        var customerId = f.String("customerId", required: typeName is not null && type.NeedsCustomer(),
            s => Vocabulary.IsKey(s) ? null : "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var staffId = f.String("staffId", required: false, s => Vocabulary.IsKey(s) ? null : "must be 1–128 characters of A–Z, a–z, 0–9, '.', '_', ':' or '-'");
        var channel = f.OneOf("channel", required: false, Vocabulary.Channels);

        if (typeName is null)
        {
            return false; // without a type the data cannot be checked; the type error says why
        }

        var fact0 = new Fact
        {
            Id = id ?? "",
            Type = type,
            Time = time ?? default,
            CustomerId = customerId,
            StaffId = staffId,
            Channel = channel,
        };
        var built = ReadData(type, f, fact0);
        if (!errors.IsEmpty || built is null) return false;
        fact = built;
        return true;
    }

    private DateTimeOffset? ReadTime(JsonFields f)
    {
        var text = f.String("time", required: true, s => Rfc3339().IsMatch(s) ? null : "must be an RFC 3339 timestamp with an offset, like 2026-11-03T10:15:00Z");
        if (text is null) return null;
        text = WithinTicks(text);
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time))
        {
            var (instant, problem) = ParseBeyondDotNet(text);
            if (instant is null)
            {
                f.Errors.Add("time", problem!);
                return null;
            }
            time = instant.Value;
        }
        if (time < EarliestTime)
        {
            f.Errors.Add("time", $"is before {EarliestTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}; facts that old are not accepted");
            return null;
        }
        if (time > clock.GetUtcNow() + rules.FutureTolerance)
        {
            f.Errors.Add("time", $"is more than {rules.FutureTolerance.TotalMinutes:0} minutes in the future");
            return null;
        }
        return time;
    }

    /// <summary>
    /// The timestamp with its fraction cut to the 7 digits an instant holds (100 ns). RFC 3339 sets no limit
    /// on the digits, and the parse rounds past 7: 23:59:59.99999999 became the next day's midnight, in
    /// the next day, month and year (found by probing); more than 9 digits were refused.
    /// </summary>
    private static string WithinTicks(string text)
    {
        var dot = text.IndexOf('.', 19);
        if (dot < 0) return text;
        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
        return end - dot - 1 <= 7 ? text : string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
    }

    /// <summary>
    /// A timestamp of the RFC 3339 shape that <see cref="DateTimeOffset"/> does not take: an offset
    /// beyond ±14:00 (RFC 3339 allows up to ±23:59; the instant is kept, in UTC), or else why it is
    /// no instant: a date or time no calendar has, an offset out of range, or a real local time whose
    /// offset takes it past the first or last instant there is (9999-12-31T23:59:59-14:00), which is
    /// as far from now as any.
    /// </summary>
    private (DateTimeOffset? Time, string? Problem) ParseBeyondDotNet(string text)
    {
        var tooOld = $"is before {EarliestTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}; facts that old are not accepted";
        var tooNew = $"is more than {rules.FutureTolerance.TotalMinutes:0} minutes in the future";
        // RFC 3339 allows a lower-case 't' (and 'z'), which the parses below do not take.
        var upper = string.Concat(text.AsSpan(0, 10), "T", text.AsSpan(11));
        if (!DateTime.TryParseExact(upper[..19], "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            return (null, "is not a valid date and time (no such day, or an hour, minute or second out of range; a leap second's :60 is not taken)");
        if (text[^1] is 'Z' or 'z') return (null, local.Year >= 9999 ? tooNew : tooOld);
        var (hours, minutes) = (int.Parse(text[^5..^3], CultureInfo.InvariantCulture), int.Parse(text[^2..], CultureInfo.InvariantCulture));
        if (hours > 23 || minutes > 59) return (null, $"has the offset {text[^6..]}, which is out of range: RFC 3339 offsets run from -23:59 to +23:59");
        var offset = new TimeSpan(hours, minutes, 0) * (text[^6] == '-' ? -1 : 1);
        // The local time as if in UTC (fraction included), then moved by the offset.
        if (!DateTimeOffset.TryParse(upper[..^6] + "Z", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var wall)) return (null, local.Year >= 9999 ? tooNew : tooOld);
        var utcTicks = wall.UtcTicks - offset.Ticks;
        if (utcTicks < DateTimeOffset.MinValue.UtcTicks) return (null, tooOld);
        if (utcTicks > DateTimeOffset.MaxValue.UtcTicks) return (null, tooNew);
        return (new DateTimeOffset(utcTicks, TimeSpan.Zero), null);
    }

    private Fact? ReadData(FactType type, JsonFields f, Fact fact)
    {
        switch (type)
        {
            case FactType.CustomerAcquired:
            {
                var d = f.Object("data", required: false);
                return fact with
                {
                    Segment = d.String("segment", false, LabelCheck),
                    Region = d.String("region", false, LabelCheck),
                };
            }
            case FactType.CustomerChurned:
            {
                var d = f.Object("data", required: false);
                return fact with { Reason = d.String("reason", false, s => s.Length <= 1024 ? null : "must be at most 1024 characters") };
            }
            case FactType.CustomerReactivated:
                f.Object("data", required: false);
                return fact;
            case FactType.Interaction:
            {
                var d = f.Object("data", required: true);
                return fact with
                {
                    Direction = d.OneOf("direction", true, Vocabulary.Directions),
                    FirstContactResolution = d.Boolean("firstContactResolution", false),
                    HandleSeconds = d.Number("handleSeconds", false, min: 0, max: MaxMagnitude),
                };
            }
            case FactType.Order:
            {
                var d = f.Object("data", required: true);
                var (amount, currency, original) = ReadMoney(d, currencyRequired: true);
                return fact with { Amount = amount, Currency = currency, OriginalAmount = original };
            }
            case FactType.SurveyResponse:
            {
                var d = f.Object("data", required: true);
                var metric = d.OneOf("metric", true, Vocabulary.SurveyMetrics);
                int? score = null;
                if (metric is not null)
                {
                    var (min, max) = Vocabulary.ScoreRange(metric);
                    score = d.Integer("score", true, min, max);
                }
                else if (!d.Has("score"))
                {
                    d.Errors.Add(d.Path("score"), "is required");
                }
                return fact with { Metric = metric, Score = score };
            }
            case FactType.ComplaintOpened:
            {
                var d = f.Object("data", required: true);
                return fact with
                {
                    CaseId = d.String("caseId", true, LabelCheck),
                    Severity = d.OneOf("severity", true, Vocabulary.Severities),
                    SlaHours = d.Number("slaHours", false, min: 0, minExclusive: true),
                };
            }
            case FactType.ComplaintResolved:
            {
                var d = f.Object("data", required: true);
                return fact with { CaseId = d.String("caseId", true, LabelCheck) };
            }
            case FactType.DealClosed:
            {
                var d = f.Object("data", required: true);
                var dealId = d.String("dealId", true, LabelCheck);
                var outcome = d.OneOf("outcome", true, Vocabulary.Outcomes);
                var (amount, currency, original) = ReadMoney(d, currencyRequired: false);
                var competitor = d.String("competitor", false, LabelCheck);
                return fact with { DealId = dealId, Outcome = outcome, Amount = amount, Currency = currency, OriginalAmount = original, Competitor = competitor };
            }
            case FactType.CompetitorObservation:
            {
                var d = f.Object("data", required: true);
                var competitor = d.String("competitor", true, LabelCheck);
                var indicator = d.String("indicator", true, s => rules.IsReportableIndicator(s) ? null : $"must be an indicator id of the catalog or 'market-share'; got '{JsonFields.Truncate(s)}'");
                var value = d.Number("value", true, min: -MaxMagnitude, max: MaxMagnitude);
                var period = ReadPeriod(d);
                return fact with { Competitor = competitor, Indicator = indicator, Value = value, PeriodKey = period };
            }
            case FactType.MarketObservation:
            {
                var d = f.Object("data", required: true);
                var indicator = d.String("indicator", true, s => s == "market-size" ? null : $"must be 'market-size'; got '{JsonFields.Truncate(s)}'");
                var value = d.Number("value", true, min: 0, max: MaxMagnitude);
                var period = ReadPeriod(d);
                return fact with { Indicator = indicator, Value = value, PeriodKey = period };
            }
            default:
                return null;
        }
    }

    private string? ReadPeriod(JsonFields d) =>
        d.String("period", true, s => !rules.Calendar.TryParse(s, out var period, out var error)
            ? $"must be a period key of the reporting calendar ({rules.Calendar.Calendar.Setting}): {error}"
            : PeriodReach.Problem(rules.Calendar, period!, s, clock.GetUtcNow()));

    private (decimal? Amount, string? Currency, decimal? Original) ReadMoney(JsonFields d, bool currencyRequired)
    {
        var amount = d.Decimal("amount", true, min: 0, max: (decimal)MaxMagnitude);
        var currency = d.String("currency", currencyRequired, s =>
        {
            if (!Vocabulary.IsCurrencyCode(s)) return "must be an ISO 4217 code of three capital letters";
            if (s != rules.ReportingCurrency && !rules.ExchangeRates.ContainsKey(s))
                return $"is not the reporting currency ({rules.ReportingCurrency}) and no exchange rate for it is configured";
            return null;
        });
        if (amount is null) return (null, currency, null);
        var code = currency ?? rules.ReportingCurrency;
        if (currency is null && currencyRequired) return (null, null, null);
        if (code == rules.ReportingCurrency) return (amount, code, amount);
        var rate = rules.ExchangeRates[code];
        // The sums downstream are bounded by the largest amount: a large rate must not carry one past it.
        if (rate > 1 && amount.Value > (decimal)MaxMagnitude / rate)
        {
            d.Errors.Add(d.Path("amount"), $"is {amount.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)} {code}, which at the configured rate ({rate.ToString(System.Globalization.CultureInfo.InvariantCulture)}) is more than {MaxMagnitude:0} {rules.ReportingCurrency}");
            return (null, code, null);
        }
        return (amount.Value * rate, code, amount);
    }

    private static string? LabelCheck(string s) => Vocabulary.IsLabel(s) ? null : "must be 1–128 characters without control characters";
}
