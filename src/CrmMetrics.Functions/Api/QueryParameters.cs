using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// Reads and checks query parameters like bodies: each bad value is an error naming the parameter,
/// and only checked values ever reach a storage query (through the SDK's parameterised filters).
/// </summary>
public sealed partial class QueryParameters(HttpRequest request, ValidationErrors errors, PeriodCalendar calendar)
{
    public ValidationErrors Errors => errors;

    public string? Raw(string name)
    {
        // The key check refuses parameters the operation does not declare; reading one would mean the
        // declaration (and with it the OpenAPI document) left it out.
        if (request.HttpContext.Items[typeof(ApiOperationAttribute)] is ApiOperationAttribute { AnyQuery: false } operation
            && !operation.Query.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{operation.OperationId} reads the query parameter '{name}' without declaring it in its ApiOperation's Query.");
        var values = request.Query[name];
        if (values.Count > 1)
        {
            errors.Add(name, "must be given once");
            return null;
        }
        var value = values.FirstOrDefault();
        if (value is null) return null;
        if (value.Length > 512)
        {
            errors.Add(name, "is too long");
            return null;
        }
        return value;
    }

    public Grain? Grain(string name = "grain")
    {
        var text = Raw(name);
        if (text is null) return null;
        if (TryGrain(text, out var grain, out var error)) return grain;
        errors.Add(name, error);
        return null;
    }

    public Period? Period(string name, Grain? grain)
    {
        var text = Raw(name);
        if (text is null) return null;
        if (TryPeriod(calendar, text, grain, out var period, out var error)) return period;
        errors.Add(name, error);
        return null;
    }

    /// <summary>Reads a grain name as every input path does (query parameters, OData literals); the error reads after the field's name.</summary>
    public static bool TryGrain(string text, out Grain grain, [NotNullWhen(false)] out string? error)
    {
        error = Grains.TryParse(text, out grain) ? null : $"must be one of day, week, month, quarter, year; got '{JsonFields.Truncate(text)}'";
        return error is null;
    }

    /// <summary>Reads a period key of the reporting calendar (of <paramref name="grain"/> when given) as every input path does; the error reads after the field's name.</summary>
    public static bool TryPeriod(PeriodCalendar calendar, string text, Grain? grain, [NotNullWhen(true)] out Period? period, [NotNullWhen(false)] out string? error)
    {
        var ok = grain is { } g ? calendar.TryParse(text, g, out period, out error) : calendar.TryParse(text, out period, out error);
        if (!ok)
        {
            error = $"is not a period key of the reporting calendar ({calendar.Calendar.Setting}): {error}";
            return false;
        }
        error = PeriodReach.Problem(calendar, period!, text, DateTimeOffset.UtcNow);
        if (error is not null) period = null;
        return error is null;
    }

    public string? Indicator(string name = "indicator")
    {
        var text = Raw(name);
        if (text is null) return null;
        if (IndicatorCatalog.IsKnown(text)) return text;
        errors.Add(name, $"'{JsonFields.Truncate(text)}' is not an indicator of the catalog (GET /api/indicators lists them)");
        return null;
    }

    public string? Family(string name = "family") => OneOf(name, Families.All);

    /// <summary>A parameter that takes one of a few words.</summary>
    public string? OneOf(string name, IReadOnlyCollection<string> allowed)
    {
        var text = Raw(name);
        if (text is null) return null;
        if (allowed.Contains(text)) return text;
        errors.Add(name, $"must be one of {string.Join(", ", allowed)}; got '{JsonFields.Truncate(text)}'");
        return null;
    }

    /// <summary>A scope parameter; <paramref name="goals"/> admits <c>goal:&lt;goalId&gt;</c>, where goal attainment rows are read.</summary>
    public string? Scope(string name = "scope", bool goals = false)
    {
        var text = Raw(name);
        if (text is null) return null;
        var problem = Domain.Aggregation.Scope.Problem(text, goals);
        if (problem is null) return text;
        errors.Add(name, problem);
        return null;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var text = Raw(name);
        if (text is null) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        errors.Add(name, $"must be a whole number from {min} to {max}");
        return fallback;
    }

    public DateTimeOffset? Instant(string name)
    {
        var text = Raw(name);
        if (text is null) return null;
        // Found by a contract probe: "2026-12-05T21:05:00+03:30" typed into a URL arrives with a space for its '+',
        // and was refused as out of range; "12/05/2026" (read month first) and "2026-12" were taken.
        if (OffsetAfterSpace().IsMatch(text))
        {
            errors.Add(name, "has a space where its offset's '+' should be (in a query string '+' stands for a space): write it as %2B, like 2026-11-01T00:00:00%2B03:30");
            return null;
        }
        if (!IsoDateOrInstant().IsMatch(text))
        {
            errors.Add(name, "must be an ISO 8601 date or date and time, like 2026-11-01 or 2026-11-01T00:00:00Z");
            return null;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)) return value;
        // A real date and time whose offset takes it before the first instant or after the last one there is.
        errors.Add(name, DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces, out _)
            || text.Length > 19 && DateTime.TryParse(text[..19], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            ? "is before the first instant or after the last one there is (0001-01-01 and 9999-12-31 in UTC)"
            : "must be an ISO 8601 date or date and time, like 2026-11-01 or 2026-11-01T00:00:00Z");
        return null;
    }

    /// <summary>A date (yyyy-MM-dd), or one with a time and perhaps an offset (Z, ±hh:mm), as RFC 3339 writes them.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:\d{2})?)?$")]
    private static partial System.Text.RegularExpressions.Regex IsoDateOrInstant();

    /// <summary>A date and time followed by a space and an offset's digits: a '+' the query string turned into a space.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)? \d{2}:\d{2}$")]
    private static partial System.Text.RegularExpressions.Regex OffsetAfterSpace();
}
