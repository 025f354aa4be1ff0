using System.Globalization;
using System.Text;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using Microsoft.Azure.Functions.Worker;
using CrmMetrics.Storage.Snapshots;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace CrmMetrics.Functions.Api;

/// <summary><c>GET /api/snapshots</c> (JSON or CSV) and <c>GET /api/indicators/{id}/series</c>.</summary>
public sealed class SnapshotsFunctions(SnapshotReader reader, SnapshotStore snapshots, SnapshotResponseCache cache, CrmMetricsSettings settings, IOptions<JsonOptions> json)
{
    public const int MaxPageSize = 1000;

    /// <param name="CalendarChange">Only when the period asked for is not served because its key means other days since it was computed (<see cref="SnapshotReader.CalendarChange"/>).</param>
    public sealed record SnapshotsResponse(IReadOnlyList<SnapshotRowDto> Items, string? ContinuationToken,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalendarChange = null);

    /// <summary>The header a CSV answer carries <see cref="SnapshotsResponse.CalendarChange"/> in.</summary>
    public const string CalendarChangeHeader = "X-Calendar-Change";
    public sealed record SeriesResponse(string Indicator, string Scope, string Grain, IReadOnlyList<SnapshotRowDto> Points);

    [Function("Snapshots")]
    [ApiOperation("GET", "GetSnapshots", Access.Reader, Query = ["grain", "period", "indicator", "family", "scope", "pageSize", "version", "continuationToken"],
        Summary = "Latest snapshot rows; filters period, grain, family, indicator, scope; version (with period) for an earlier version; paged; JSON or text/csv.",
        Response = typeof(SnapshotsResponse), AlsoProduces = "text/csv", Problems = [400, 404])]
    public async Task<IResult> ReadAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/snapshots")] HttpRequest request, CancellationToken ct)
    {
        var context = request.HttpContext;
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        var grain = q.Grain();
        var period = q.Period("period", grain);
        var filter = new SnapshotFilter(q.Indicator(), q.Family(), q.Scope(goals: true));
        var pageSize = q.Int("pageSize", MaxPageSize, 1, MaxPageSize);
        int? version = q.Raw("version") is null ? null : q.Int("version", 0, 1, 999_999);
        if (version is not null && period is null) q.Errors.Add("version", "needs period: a version belongs to one period");
        SnapshotCursor? cursor = null;
        if (q.Raw("continuationToken") is { Length: > 0 } token
            && ((cursor = SnapshotCursor.TryDecode(token)) is null || !Grains.TryParse(cursor.Grain, out var cursorGrain) || !settings.Calendar.TryParse(cursor.Period, cursorGrain, out _, out _)))
            q.Errors.Add("continuationToken", "is not a token this API gave out; start again without it");
        else if (cursor?.Query is { } given && q.Errors.IsEmpty && given != new SnapshotQuery(grain, period, filter, pageSize, cursor, version).Fingerprint())
            q.Errors.Add("continuationToken", "was given for another query: send it with the grain, period, indicator, family, scope and version it came with, or start again without it");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var csv = WantsCsv(request);
        // The same address answers JSON or CSV: caches must key on Accept.
        context.Response.Headers.Vary = "Accept";
        // One period's latest rows: answered from the cache, or 304, while the period's latest version stands.
        string? etag = null;
        string? calendarChange = null;
        LatestSnapshot? pointer = null;
        if (period is not null && version is null
            // The shared read must not end with the request that started it: no request token.
            && await cache.LatestAsync($"{Grains.Key(period.Grain)}|{period.Key}", () => snapshots.LatestAsync(period.Grain, period.Key, CancellationToken.None)).WaitAsync(ct) is { Version: > 0 } latest)
        {
            // The rows are read where this pointer says, so the ETag, calendarChange and rows agree (found in review).
            pointer = latest;
            calendarChange = SnapshotReader.CalendarChange(latest, settings.Calendar);
            // The calendar is part of what the answer says: a copy kept from before CrmMetrics:Calendar changed is not current.
            // The attempt too: another delivery of the run's job promotes the same version with other rows (a goal deleted between).
            etag = SnapshotResponseCache.ETagFor($"{Grains.Key(latest.Grain)}|{latest.Period}|{latest.Version}|{latest.RunId}{(latest.Attempt is null ? "" : "|" + latest.Attempt)}|{settings.Calendar.Calendar.Setting}",
                $"{request.QueryString}|{(csv ? "csv" : "json")}");
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "private, no-cache";
            if (EntityTags.IsNotModified(request, etag))
                return Results.StatusCode(StatusCodes.Status304NotModified);
            if (cache.Get(etag) is { } hit) return Cached(context, hit, period, calendarChange);
        }

        if (version is { } asked)
        {
            // Found by probing: a version past the latest answered 200 with no rows, as if it held none.
            pointer = await snapshots.LatestAsync(period!.Grain, period.Key, ct);
            if (pointer is not { Version: > 0 } || pointer.Version < asked)
                return Problems.NotFound(pointer is { Version: > 0 }
                    ? $"version {asked} of {Grains.Key(period.Grain)} {period.Key} does not exist: its latest version is {pointer.Version}"
                    : $"version {asked} of {Grains.Key(period.Grain)} {period.Key} does not exist: the period has not been computed");
        }

        SnapshotPage page;
        try
        {
            page = await reader.ReadLatestAsync(new SnapshotQuery(grain, period, filter, pageSize, cursor, version, pointer), ct);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 400 && cursor is not null)
        {
            return Problems.Validation("continuationToken", "is not a token this API gave out; start again without it");
        }
        var entry = csv
            ? new SnapshotResponseCache.Entry(etag ?? "", Encoding.UTF8.GetBytes(SnapshotCsv.Write(page.Rows)), "text/csv; charset=utf-8", page.ContinuationToken)
            : new SnapshotResponseCache.Entry(etag ?? "", JsonSerializer.SerializeToUtf8Bytes(new SnapshotsResponse(page.Rows.Select(SnapshotRowDto.From).ToList(), page.ContinuationToken, calendarChange),
                json.Value.SerializerOptions), "application/json; charset=utf-8", page.ContinuationToken);
        if (etag is not null) cache.Put(entry);
        return Cached(context, entry, period, calendarChange);
    }

    private static IResult Cached(HttpContext context, SnapshotResponseCache.Entry entry, Period? period, string? calendarChange)
    {
        if (entry.ContentType.StartsWith("text/csv", StringComparison.Ordinal))
        {
            if (entry.ContinuationToken is not null) context.Response.Headers["X-Continuation-Token"] = entry.ContinuationToken;
            if (calendarChange is not null) context.Response.Headers[CalendarChangeHeader] = calendarChange;
            // A name for the file a browser saves (period keys are letters, digits and '-'); shown, not forced to download.
            context.Response.Headers.ContentDisposition = $"inline; filename=\"crm-snapshots{(period is null ? "" : "-" + period.Key)}.csv\"";
        }
        return Results.Bytes(entry.Body, entry.ContentType);
    }

    [Function("IndicatorSeries")]
    [ApiOperation("GET", "GetIndicatorSeries", Access.Reader, Query = ["grain", "from", "to", "scope"], Summary = "An indicator's latest values over from..to at a grain, for a scope (default org).",
        Response = typeof(SeriesResponse), Problems = [400])]
    public async Task<IResult> SeriesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "api/indicators/{id}/series")] HttpRequest request, string id, CancellationToken ct)
    {
        var q = new QueryParameters(request, new ValidationErrors(), settings.Calendar);
        if (!Domain.Indicators.IndicatorCatalog.IsKnown(id)) q.Errors.Add("id", $"'{JsonFields.Truncate(id)}' is not an indicator of the catalog");
        var grain = q.Grain();
        var from = q.Period("from", grain);
        var to = q.Period("to", grain ?? from?.Grain);
        var scope = q.Scope(goals: true) ?? Scope.Org;
        var effectiveGrain = grain ?? from?.Grain ?? to?.Grain ?? Grain.Month;
        if (from is not null && from.Grain != effectiveGrain) q.Errors.Add("from", $"must be a {Grains.Key(effectiveGrain)} key");
        if (from is not null && to is not null && from.Grain == to.Grain && from.Start > to.Start) q.Errors.Add("to", "must not be before from");
        if (!q.Errors.IsEmpty) return Problems.Validation(q.Errors);

        var points = await reader.SeriesAsync(id, scope, effectiveGrain, from, to, ct);
        return TypedResults.Ok(new SeriesResponse(id, scope, Grains.Key(effectiveGrain), points.Select(SnapshotRowDto.From).ToList()));
    }

    private static bool WantsCsv(HttpRequest request) => PrefersCsv(request.Headers.Accept);

    /// <summary>
    /// Whether an Accept header asks for CSV: each of CSV and JSON gets the quality of its most
    /// specific match (<c>text/csv</c>, else <c>text/*</c>, else <c>*/*</c>; <c>application/json</c>,
    /// else <c>application/*</c>, else <c>*/*</c>, as RFC 9110 says), and CSV is chosen when its quality
    /// is higher, or equal with text/csv named. Anything else, an absent header included, is JSON.
    /// </summary>
    public static bool PrefersCsv(Microsoft.Extensions.Primitives.StringValues accept)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(accept, out var types)) return false;
        double? csvNamed = null, textWildcard = null, jsonNamed = null, applicationWildcard = null, any = null;
        foreach (var type in types)
        {
            var q = type.Quality ?? 1;
            static double? Max(double? a, double b) => Math.Max(a ?? 0, b);
            switch (type.MediaType.Value?.ToLowerInvariant())
            {
                case "text/csv": csvNamed = Max(csvNamed, q); break;
                case "text/*": textWildcard = Max(textWildcard, q); break;
                case "application/json": jsonNamed = Max(jsonNamed, q); break;
                case "application/*": applicationWildcard = Max(applicationWildcard, q); break;
                case "*/*": any = Max(any, q); break;
            }
        }
        var csv = csvNamed ?? textWildcard ?? any ?? 0;
        var json = jsonNamed ?? applicationWildcard ?? any ?? 0;
        return csv > 0 && (csv > json || (csv == json && csvNamed is not null));
    }
}

/// <summary>Snapshot rows as RFC 4180 CSV in the invariant culture: the contract's columns, in its order.</summary>
public static class SnapshotCsv
{
    public static readonly string[] Columns = ["indicator", "family", "scope", "grain", "period", "value", "unit", "direction", "kind", "factCount", "computedAt", "runId", "version"];

    public static string Write(IEnumerable<SnapshotRow> rows)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Columns)).Append("\r\n");
        foreach (var r in rows)
        {
            var dto = SnapshotRowDto.From(r);
            string[] cells =
            [
                Text(dto.Indicator), Text(dto.Family), Text(dto.Scope), Text(dto.Grain), Text(dto.Period),
                dto.Value switch { decimal d => d.ToString(CultureInfo.InvariantCulture), double v => v.ToString("R", CultureInfo.InvariantCulture), _ => "" },
                Text(dto.Unit), Text(dto.Direction), Text(dto.Kind), dto.FactCount.ToString(CultureInfo.InvariantCulture),
                dto.ComputedAt.ToString("O", CultureInfo.InvariantCulture), Text(dto.RunId), dto.Version.ToString(CultureInfo.InvariantCulture),
            ];
            sb.Append(string.Join(",", cells.Select(Quote))).Append("\r\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// A text cell a spreadsheet would take for a formula (=, +, - or @ first, or a tab or carriage
    /// return) is led by an apostrophe, as the scorecard's CSV does (found by probing: a derived
    /// indicator's unit "=HYPERLINK(…)" reached Excel as a formula). Numbers are written as they are.
    /// </summary>
    private static string Text(string? cell) => cell is { Length: > 0 } && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + cell : cell ?? "";

    private static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + cell.Replace("\"", "\"\"") + "\"" : cell;
}
