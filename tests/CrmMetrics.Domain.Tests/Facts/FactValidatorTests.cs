using System.Text.Json;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;

namespace CrmMetrics.Domain.Tests.Facts;

public class FactValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static FactValidator Validator(string calendar = "gregorian") => new(new FactRules
    {
        Calendar = PeriodCalendar.TryCreate(calendar, "UTC", out var c, out _) ? c! : throw new InvalidOperationException(),
        ReportingCurrency = "EUR",
        ExchangeRates = new Dictionary<string, decimal> { ["USD"] = 0.9m },
        IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors,
    }, new FixedClock(Now));

    private static (Fact? Fact, IReadOnlyDictionary<string, string[]> Errors) Validate(string json, string calendar = "gregorian")
    {
        using var doc = JsonDocument.Parse(json);
        Validator(calendar).TryValidate(doc.RootElement, out var fact, out var errors);
        return (fact, errors.ToDictionary());
    }

    [Fact]
    public void A_member_nobody_reads_may_be_repeated_as_unknown_members_are_ignored()
    {
        var (fact, errors) = Validate("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","src":1,"src":2,"data":{"amount":1,"currency":"EUR","note":"a","note":"b"}}""");
        Assert.NotNull(fact);
        Assert.Empty(errors);
    }

    [Fact]
    public void A_valid_order_becomes_a_fact_with_the_amount_exact()
    {
        var (fact, errors) = Validate("""{"id":"o-1","type":"order","time":"2026-11-03T10:15:00+03:30","customerId":"C-1","staffId":"S-1","channel":"web","data":{"amount":19.99,"currency":"EUR"}}""");
        Assert.Empty(errors);
        Assert.Equal(FactType.Order, fact!.Type);
        Assert.Equal(19.99m, fact.Amount);
        Assert.Equal(new DateTimeOffset(2026, 11, 3, 10, 15, 0, TimeSpan.FromMinutes(210)), fact.Time);
        Assert.Equal("web", fact.Channel);
    }

    [Theory]
    [InlineData("2026-02-30T10:00:00Z", "no such day")]
    [InlineData("2026-11-03T24:00:00Z", "no such day")]
    [InlineData("2016-12-31T23:59:60Z", "leap second")]
    [InlineData("9999-12-31T23:59:59-14:00", "in the future")]          // found by probing: "is not a valid date and time"
    [InlineData("0001-01-01T00:00:00+14:00", "facts that old are not accepted")]
    // Found by probing: these said "is before 1900-01-01".
    [InlineData("2026-11-12T10:00:00+25:00", "out of range")]
    [InlineData("2026-11-12T10:00:00-12:60", "out of range")]
    [InlineData("2026-11-23T12:00:00-23:59", "in the future")]
    [InlineData("0001-01-01T00:00:00+23:59", "facts that old are not accepted")]
    public void A_time_that_is_no_instant_says_why(string time, string why)
    {
        var (fact, errors) = Validate($$"""{"id":"t","type":"customer.acquired","time":"{{time}}","customerId":"C"}""");
        Assert.Null(fact);
        Assert.Contains(why, Assert.Single(errors["time"]));
    }

    [Theory]
    // Found by probing: digits of other scripts matched the pattern's \d and a parse of them threw (a 500,
    // and a queue message's valid events never stored), or said "before 1900".
    [InlineData("2026-11-03T10:15:00+\u06f0\u06f1:\u06f0\u06f0")]
    [InlineData("2026-11-03T10:15:00+\u0660\u0661:\u0660\u0660")]
    [InlineData("2026-11-03T10:15:00.\u06f1Z")]
    [InlineData("\u06f2\u06f0\u06f2\u06f6-11-03T10:15:00Z")]
    [InlineData("2026-11-03T10:15:00Z\\n")]   // a JSON escape: the string ends in a line feed
    public void A_time_not_written_in_ascii_digits_alone_is_refused_for_its_shape(string time)
    {
        var (fact, errors) = Validate($$"""{"id":"t","type":"customer.acquired","time":"{{time}}","customerId":"C"}""");
        Assert.Null(fact);
        Assert.Contains("must be an RFC 3339 timestamp", Assert.Single(errors["time"]));
    }

    [Theory]
    // RFC 3339 offsets run to ±23:59; DateTimeOffset holds ±14:00 only, so such a time is kept as its instant in UTC.
    [InlineData("2026-11-12T10:00:00+23:59", "2026-11-11T10:01:00Z")]
    [InlineData("2026-11-12T10:00:00.25-14:30", "2026-11-13T00:30:00.25Z")]
    [InlineData("2026-11-12T10:00:00+14:00", "2026-11-11T20:00:00Z")]
    [InlineData("2026-11-12t10:00:00+23:59", "2026-11-11T10:01:00Z")]   // found by review: a lower-case t was "not a valid date and time"
    [InlineData("2026-11-12t10:00:00.5+15:00", "2026-11-11T19:00:00.5Z")]
    // Found by probing: 8 or 9 fraction digits were rounded to 7, so the last instant of a month became the
    // next month's midnight (and its day, quarter and year); 10 or more were refused. The fraction is cut to 100 ns.
    [InlineData("2026-03-31T23:59:59.99999999+13:00", "2026-03-31T10:59:59.9999999Z")]
    [InlineData("2026-03-31T23:59:59.999999999Z", "2026-03-31T23:59:59.9999999Z")]
    [InlineData("2026-03-31T10:59:59.999999999999Z", "2026-03-31T10:59:59.9999999Z")]
    [InlineData("2026-11-12T10:00:00.123456789012+23:59", "2026-11-11T10:01:00.1234567Z")]
    public void A_time_with_any_offset_rfc_3339_allows_is_that_instant(string time, string instant)
    {
        var (fact, errors) = Validate($$"""{"id":"t","type":"customer.acquired","time":"{{time}}","customerId":"C"}""");
        Assert.Empty(errors);
        Assert.Equal(DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture).UtcTicks, fact!.Time.UtcTicks);
    }

    [Theory]
    // events.md compares strings exactly, trimming nothing: a label of spaces or joiners alone is a label.
    [InlineData("segment", " ")]
    [InlineData("region", "\\u00a0")]
    [InlineData("segment", "\\u200c\\u200d ")]
    public void A_label_of_spaces_alone_is_taken_as_it_is(string member, string value)
    {
        var (fact, errors) = Validate($$$"""{"id":"x","type":"customer.acquired","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"{{{member}}}":"{{{value}}}"}}""");
        Assert.Empty(errors);
        Assert.NotNull(fact);
    }

    [Fact]
    public void A_label_with_visible_text_around_spaces_or_joiners_is_taken_as_it_is()
    {
        var (fact, errors) = Validate("""{"id":"x","type":"customer.acquired","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"segment":" big accounts ","region":"\u0645\u06cc\u200c\u0647"}}""");
        Assert.Empty(errors);
        Assert.Equal(" big accounts ", fact!.Segment);
        Assert.Equal("می\u200cه", fact.Region);
    }

    [Theory]
    [InlineData("1e-30", "0")]
    [InlineData("0", "0")]
    [InlineData("1000000000000000", "1000000000000000")]
    public void An_amount_of_at_least_0_is_taken_even_when_a_decimal_rounds_it(string amount, string expected)
    {
        var (fact, errors) = Validate($$$"""{"id":"o-1","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C-1","data":{"amount":{{{amount}}},"currency":"EUR"}}""");
        Assert.Empty(errors);
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), fact!.Amount);
        var (_, tooLarge) = Validate("""{"id":"o-1","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C-1","data":{"amount":1000000000000000.01,"currency":"EUR"}}""");
        Assert.Contains("must be at most 1000000000000000", Assert.Single(tooLarge["data.amount"]));
    }

    [Fact]
    public void A_foreign_amount_that_the_rate_carries_past_the_largest_amount_is_rejected_naming_it()
    {
        var validator = new FactValidator(new FactRules
        {
            Calendar = PeriodCalendar.TryCreate("gregorian", "UTC", out var c, out _) ? c! : throw new InvalidOperationException(),
            ReportingCurrency = "IRR",
            ExchangeRates = new Dictionary<string, decimal> { ["USD"] = 10_000_000_000_000m, ["XTS"] = decimal.MaxValue, ["XXX"] = 0.00000000000001m },
            IsReportableIndicator = IndicatorCatalog.IsReportableByCompetitors,
        }, new FixedClock(Now));
        foreach (var (amount, currency) in new[] { ("1000", "USD"), ("1000", "XTS") })
        {
            using var doc = JsonDocument.Parse($$$"""{"id":"o","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":{{{amount}}},"currency":"{{{currency}}}"}}""");
            Assert.False(validator.TryValidate(doc.RootElement, out _, out var errors));
            Assert.Contains("more than 1000000000000000 IRR", Assert.Single(errors.ToDictionary()["data.amount"]));
        }
        using var fits = JsonDocument.Parse("""{"id":"o","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":100,"currency":"USD"}}""");
        Assert.True(validator.TryValidate(fits.RootElement, out var fact, out _));
        Assert.Equal(1_000_000_000_000_000m, fact!.Amount);
        using var small = JsonDocument.Parse("""{"id":"o","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":1000000000000000,"currency":"XXX"}}""");
        Assert.True(validator.TryValidate(small.RootElement, out var tiny, out _));
        Assert.Equal(10m, tiny!.Amount);
    }

    [Fact]
    public void A_foreign_currency_is_converted_when_a_rate_is_configured_and_rejected_otherwise()
    {
        var (usd, _) = Validate("""{"id":"o-2","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C-1","data":{"amount":100,"currency":"USD"}}""");
        Assert.Equal(90m, usd!.Amount);
        Assert.Equal(100m, usd.OriginalAmount);
        Assert.Equal("USD", usd.Currency);

        var (gbp, errors) = Validate("""{"id":"o-3","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C-1","data":{"amount":100,"currency":"GBP"}}""");
        Assert.Null(gbp);
        Assert.Contains("data.currency", errors.Keys);
    }

    [Theory]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","type":"customer.churned","data":{"amount":1,"currency":"EUR"}}""", "type")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":-5,"currency":"EUR","amount":5}}""", "data.amount")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":5,"currency":"EUR","\u0061mount":5}}""", "data.amount")]
    [InlineData("""{"type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "id")]
    [InlineData("""{"id":"","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "id")]
    [InlineData("""{"id":"has space","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "id")]
    [InlineData("""{"id":42,"type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "id")]
    [InlineData("""{"id":"x","type":"purchase","time":"2026-11-03T10:15:00Z","customerId":"C"}""", "type")]
    [InlineData("""{"id":"x","time":"2026-11-03T10:15:00Z","customerId":"C"}""", "type")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03 10:15","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "time")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "time")]
    [InlineData("""{"id":"x","type":"order","time":"2026-13-03T10:15:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "time")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-23T12:06:00Z","customerId":"C","data":{"amount":1,"currency":"EUR"}}""", "time")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","data":{"amount":1,"currency":"EUR"}}""", "customerId")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C/1","data":{"amount":1,"currency":"EUR"}}""", "customerId")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","staffId":"","data":{"amount":1,"currency":"EUR"}}""", "staffId")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","channel":"telepathy","data":{"amount":1,"currency":"EUR"}}""", "channel")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C"}""", "data")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":[]}""", "data")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":-1,"currency":"EUR"}}""", "data.amount")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":"12","currency":"EUR"}}""", "data.amount")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":12,"currency":"eur"}}""", "data.currency")]
    [InlineData("""{"id":"x","type":"order","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"amount":12}}""", "data.currency")]
    [InlineData("""{"id":"x","type":"interaction","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"direction":"sideways"}}""", "data.direction")]
    [InlineData("""{"id":"x","type":"interaction","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"direction":"inbound","firstContactResolution":"yes"}}""", "data.firstContactResolution")]
    [InlineData("""{"id":"x","type":"interaction","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"direction":"inbound","handleSeconds":-5}}""", "data.handleSeconds")]
    [InlineData("""{"id":"x","type":"survey.response","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"metric":"nps","score":11}}""", "data.score")]
    [InlineData("""{"id":"x","type":"survey.response","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"metric":"csat","score":0}}""", "data.score")]
    [InlineData("""{"id":"x","type":"survey.response","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"metric":"ces","score":8}}""", "data.score")]
    [InlineData("""{"id":"x","type":"survey.response","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"metric":"nps","score":7.5}}""", "data.score")]
    [InlineData("""{"id":"x","type":"survey.response","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"metric":"mood","score":3}}""", "data.metric")]
    [InlineData("""{"id":"x","type":"complaint.opened","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"severity":"high"}}""", "data.caseId")]
    [InlineData("""{"id":"x","type":"complaint.opened","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"caseId":"K1","severity":"urgent"}}""", "data.severity")]
    [InlineData("""{"id":"x","type":"complaint.opened","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"caseId":"K1","severity":"low","slaHours":0}}""", "data.slaHours")]
    [InlineData("""{"id":"x","type":"complaint.resolved","time":"2026-11-03T10:15:00Z","customerId":"C","data":{}}""", "data.caseId")]
    [InlineData("""{"id":"x","type":"deal.closed","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"dealId":"D1","outcome":"maybe","amount":5}}""", "data.outcome")]
    [InlineData("""{"id":"x","type":"deal.closed","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"outcome":"won","amount":5}}""", "data.dealId")]
    [InlineData("""{"id":"x","type":"competitor.observation","time":"2026-11-03T10:15:00Z","data":{"competitor":"Acme","indicator":"cx.happiness","value":3,"period":"2026-10"}}""", "data.indicator")]
    [InlineData("""{"id":"x","type":"competitor.observation","time":"2026-11-03T10:15:00Z","data":{"competitor":"Acme","indicator":"cx.nps","value":3,"period":"2026-13"}}""", "data.period")]
    // A period no fact can fall in: a key of another calendar or a slip, centuries ahead or before 1900.
    [InlineData("""{"id":"x","type":"competitor.observation","time":"2026-11-03T10:15:00Z","data":{"competitor":"Acme","indicator":"cx.nps","value":3,"period":"3026-10"}}""", "data.period")]
    [InlineData("""{"id":"x","type":"market.observation","time":"2026-11-03T10:15:00Z","data":{"indicator":"market-size","value":3,"period":"1850"}}""", "data.period")]
    [InlineData("""{"id":"x","type":"market.observation","time":"2026-11-03T10:15:00Z","data":{"indicator":"market-size","value":-3,"period":"2026-10"}}""", "data.value")]
    [InlineData("""{"id":"x","type":"market.observation","time":"2026-11-03T10:15:00Z","data":{"indicator":"share","value":3,"period":"2026-10"}}""", "data.indicator")]
    [InlineData("""[1,2]""", "event")]
    [InlineData("\"just a string\"", "event")]
    public void Each_broken_rule_is_reported_on_its_field(string json, string field)
    {
        var (fact, errors) = Validate(json);
        Assert.Null(fact);
        Assert.Contains(field, errors.Keys);
        Assert.All(errors[field], m => Assert.False(string.IsNullOrWhiteSpace(m)));
    }

    [Fact]
    public void Several_errors_in_one_event_are_all_reported()
    {
        var (_, errors) = Validate("""{"id":"bad id","type":"order","time":"yesterday","data":{"amount":-2,"currency":"XX"}}""");
        Assert.Equal(["customerId", "data.amount", "data.currency", "id", "time"], errors.Keys.Order().ToArray());
    }

    [Fact]
    public void Unknown_members_are_ignored_and_null_optionals_count_as_absent()
    {
        var (fact, errors) = Validate("""{"id":"i-1","type":"interaction","time":"2026-11-03T10:15:00Z","customerId":"C","staffId":null,"extra":{"x":1},"data":{"direction":"inbound","firstContactResolution":true,"note":"hi"}}""");
        Assert.Empty(errors);
        Assert.Null(fact!.StaffId);
        Assert.True(fact.FirstContactResolution);
    }

    [Fact]
    public void Observations_need_no_customer_and_check_their_period_in_the_reporting_calendar()
    {
        var (competitor, e1) = Validate("""{"id":"c-1","type":"competitor.observation","time":"2026-11-03T10:15:00Z","data":{"competitor":"Acme","indicator":"cx.nps","value":31.5,"period":"2026-10"}}""");
        Assert.Empty(e1);
        Assert.Equal("2026-10", competitor!.PeriodKey);

        var (share, e2) = Validate("""{"id":"c-2","type":"competitor.observation","time":"2026-11-03T10:15:00Z","data":{"competitor":"Acme","indicator":"market-share","value":12,"period":"2026-Q3"}}""");
        Assert.Empty(e2);
        Assert.Equal("market-share", share!.Indicator);

        var (persian, e3) = Validate("""{"id":"m-1","type":"market.observation","time":"2026-11-03T10:15:00Z","data":{"indicator":"market-size","value":1000000,"period":"1405-08"}}""", "persian");
        Assert.Empty(e3);
        Assert.Equal("1405-08", persian!.PeriodKey);
    }

    [Fact]
    public void Events_up_to_five_minutes_ahead_are_accepted_as_clock_skew()
    {
        var (fact, errors) = Validate("""{"id":"x","type":"customer.acquired","time":"2026-11-23T12:04:59Z","customerId":"C","data":{"segment":"smb","region":"north"}}""");
        Assert.Empty(errors);
        Assert.Equal("smb", fact!.Segment);
    }

    [Fact]
    public void Lifecycle_events_without_data_are_valid()
    {
        Assert.Empty(Validate("""{"id":"a","type":"customer.acquired","time":"2026-11-03T10:15:00Z","customerId":"C"}""").Errors);
        Assert.Empty(Validate("""{"id":"b","type":"customer.churned","time":"2026-11-03T10:15:00Z","customerId":"C"}""").Errors);
        Assert.Empty(Validate("""{"id":"c","type":"customer.reactivated","time":"2026-11-03T10:15:00Z","customerId":"C"}""").Errors);
    }

    [Fact]
    public void A_label_counts_characters_not_utf16_halves()
    {
        // Found by a contract probe: 128 emoji (128 characters) were refused as longer than 128.
        string Segment(string label) => $$$"""{"id":"x","type":"customer.acquired","time":"2026-11-03T10:15:00Z","customerId":"C","data":{"segment":"{{{label}}}"}}""";
        var (fact, errors) = Validate(Segment(string.Concat(Enumerable.Repeat("😀", 128))));
        Assert.True(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        Assert.Equal(256, fact!.Segment!.Length);
        Assert.Contains("data.segment", Validate(Segment(string.Concat(Enumerable.Repeat("😀", 129)))).Errors.Keys);
        Assert.Contains("data.segment", Validate(Segment(new string('a', 129))).Errors.Keys);
        Assert.Empty(Validate(Segment(new string('a', 128))).Errors);
        // Found in review: the label taken here must be a scope the API, goals and rules take too.
        Assert.Null(CrmMetrics.Domain.Aggregation.Scope.Problem("segment:" + fact.Segment));
        Assert.Null(CrmMetrics.Domain.Aggregation.Scope.Problem("competitor:" + fact.Segment));
    }
}
