using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Validation;
using CrmMetrics.Functions.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OData.Extensions;
using Microsoft.AspNetCore.OData.Query;
using Microsoft.AspNetCore.OData.Query.Validator;
using Microsoft.OData;
using Microsoft.OData.UriParser;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// One unit of a feed (one period's latest rows, or one page of a log), loaded on demand. <paramref name="Rows"/>:
/// how many rows <paramref name="Load"/> gives, when that is known without loading them (a period's latest
/// version records how many it holds); null when not (when the table reads only some of them, the recorded
/// count is an upper bound, which can refuse nothing).
/// </summary>
public sealed record FeedPart<T>(string Key, Func<CancellationToken, Task<IReadOnlyList<T>>> Load, int? Rows = null);

/// <summary>
/// Serves an OData query over feed parts with server-driven paging: reads parts in order (at most
/// <see cref="MaxPartsPerPage"/> a page), applies <c>$filter</c> to each part's rows, pages by
/// <c>$skiptoken</c> (part and offset), and applies <c>$select</c>. <c>$orderby</c> and <c>$count</c> need every matching row, so they are allowed
/// only when the rows the filter makes the feed read are bounded (<see cref="MaxRowsForEveryRow"/> in at most <see cref="MaxPartsForEveryRow"/> parts):
/// refused before reading when the parts' known counts pass the bound, else once the rows read do.
/// </summary>
public static partial class ODataFeed
{
    public const int MaxTop = 10_000;

    /// <summary>
    /// The most rows an <c>$orderby</c> or <c>$count</c> reads (those the table returns for the filter's
    /// periods, indicator, family and scope). Counting them by periods instead refused small sets:
    /// goal attainment in 40 periods, once the day and week runs had computed many (found by probing).
    /// </summary>
    public const int MaxRowsForEveryRow = 200_000;

    /// <summary>The most parts (periods) an <c>$orderby</c> or <c>$count</c> reads: one storage query each.</summary>
    public const int MaxPartsForEveryRow = 1_000;

    /// <summary>How many parts an <c>$orderby</c> or <c>$count</c> reads at a time.</summary>
    private const int PartsReadAtOnce = 8;

    /// <summary>
    /// The most parts one page reads. A filter that few rows of each period meet would otherwise read
    /// every period for one page; the page then ends short, its next link going on from the next part.
    /// </summary>
    public const int MaxPartsPerPage = 48;

    public static readonly ODataValidationSettings Validation = new()
    {
        AllowedQueryOptions = AllowedQueryOptions.Filter | AllowedQueryOptions.Select | AllowedQueryOptions.OrderBy | AllowedQueryOptions.Top
                              | AllowedQueryOptions.Skip | AllowedQueryOptions.Count | AllowedQueryOptions.SkipToken | AllowedQueryOptions.Format,
        AllowedFunctions = AllowedFunctions.Contains | AllowedFunctions.StartsWith | AllowedFunctions.EndsWith | AllowedFunctions.ToLower | AllowedFunctions.ToUpper
                           | AllowedFunctions.Year | AllowedFunctions.Month | AllowedFunctions.Day | AllowedFunctions.Date,
        AllowedArithmeticOperators = AllowedArithmeticOperators.None,
        MaxTop = MaxTop,
        MaxSkip = 1_000_000,
        // A multi-select slicer folds into one "or" chain: 100 nodes refused 17 "Period eq" terms.
        MaxNodeCount = 1_000,
        MaxExpansionDepth = 0,
        MaxAnyAllExpressionDepth = 1,
        MaxOrderByNodeCount = 5,
    };

    /// <summary>
    /// How the rows are filtered, ordered and shaped. (A date literal is compared with the date part of
    /// an instant in the instant's own offset, which the entities give in the reporting zone; the
    /// settings' TimeZone plays no part for DateTimeOffset properties.)
    /// </summary>
    private static readonly ODataQuerySettings QuerySettings = new() { HandleNullPropagation = HandleNullPropagationOption.True, EnsureStableOrdering = false };

    private static string NeedsEveryRow(string what) =>
        $"needs every matching row, and the filter makes the feed read {what}; narrow $filter (conditions on period, grain with periodStart, " +
        "computedAt, indicator, family or scope choose what is read), or page through the feed without it";

    /// <summary>
    /// Where the next page starts: a part, an offset in its filtered rows, how many rows the pages before
    /// gave, how many rows of <c>$skip</c> are still to be passed over (a page may end while skipping), and
    /// which query it pages (<see cref="QueryOf"/>): with another filter or order, its positions mean other rows.
    /// </summary>
    internal sealed record Token(string Part, int Offset, int Emitted, int Skip = 0, string? Query = null);

    public static async Task<IActionResult> ServeAsync<T>(ControllerBase controller, ODataQueryOptions<T> options, IReadOnlyList<FeedPart<T>> parts, CancellationToken ct)
    {
        var request = controller.Request;
        var settings = request.HttpContext.RequestServices.GetRequiredService<CrmMetricsSettings>();
        var pageSize = settings.ODataPageSize;
        var top = options.Top?.Value ?? int.MaxValue;
        var skip = options.Skip?.Value ?? 0;
        Token? token = null;
        if (options.SkipToken?.RawValue is { } raw && (token = Decode(raw)) is null)
            return Problem("$skiptoken", "is not a token this service gave out; start again without it");
        var query = QueryOf(request.Path, options.RawValues);
        // Found by probing: a token sent with another $filter gave that filter's rows from the old position, or none, without a word.
        if (token is not null && token.Query != query)
            return Problem("$skiptoken", "belongs to another query (its entity set, $filter, $orderby, $top or $count differ); follow @odata.nextLink as given, or start again without it");

        Func<IReadOnlyList<T>, IReadOnlyList<T>>? filter = options.Filter is null ? null : rows => ((IQueryable<T>)options.Filter.ApplyTo(rows.AsQueryable(), QuerySettings)).ToList();

        if (request.ODataFeature().Path?.LastSegment is CountSegment)
        {
            // The /$count segment: how many rows the filter selects, as text; $top, $skip, $orderby and $select do not apply.
            var (_, selected, tooMany) = await ReadEveryRowAsync(parts, filter, keep: false, ct);
            return tooMany is not null ? Problem("$count", tooMany) : controller.Ok((long)selected);
        }

        List<T> page;
        Token? next = null;
        long? count = null;
        if (options.OrderBy is not null || options.Count?.Value == true)
        {
            var (all, _, tooMany) = await ReadEveryRowAsync(parts, filter, keep: true, ct);
            if (tooMany is not null) return Problem(options.OrderBy is not null ? "$orderby" : "$count", tooMany);
            IEnumerable<T> ordered = options.OrderBy is null ? all : ((IQueryable<T>)options.OrderBy.ApplyTo(all.AsQueryable(), QuerySettings)).ToList();
            if (options.Count?.Value == true) count = all.Count;
            var position = token?.Offset ?? skip;
            var emitted = token?.Emitted ?? 0;
            var take = Math.Min(pageSize, top - emitted);
            page = ordered.Skip(position).Take(Math.Max(0, take)).ToList();
            if (position + page.Count < all.Count && emitted + page.Count < top) next = new Token("*", position + page.Count, emitted + page.Count);
        }
        else
        {
            (page, next) = await PageInOrderAsync(parts, filter, token, skip, top, pageSize, ct);
        }

        var feature = request.ODataFeature();
        if (next is not null) feature.NextLink = NextLink(request, next with { Query = query }, settings.PublicBaseUrl);
        if (count is not null) feature.TotalCount = count;
        IQueryable result = page.AsQueryable();
        if (options.SelectExpand is not null)
        {
            // The serializer writes the selected properties only when the feature carries the clause.
            feature.SelectExpandClause = options.SelectExpand.SelectExpandClause;
            result = options.SelectExpand.ApplyTo(result, QuerySettings);
        }
        return controller.Ok(result);
    }

    /// <summary>
    /// Every row the <paramref name="filter"/> selects (null: every row), in the parts' order (kept when <paramref name="keep"/>, else only
    /// counted), reading <see cref="PartsReadAtOnce"/> parts at a time; or, when the parts, the rows they are known to
    /// hold or the rows read pass their bounds, why not (the first two before reading any part, the last reading no further).
    /// Counting every row of parts that all know theirs reads none.
    /// </summary>
    internal static async Task<(List<T> Rows, int Count, string? TooMany)> ReadEveryRowAsync<T>(IReadOnlyList<FeedPart<T>> parts,
        Func<IReadOnlyList<T>, IReadOnlyList<T>>? filter, bool keep, CancellationToken ct)
    {
        if (parts.Count > MaxPartsForEveryRow) return ([], 0, NeedsEveryRow(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{parts.Count:N0} periods (at most {MaxPartsForEveryRow:N0})")));
        // Parts of unknown count add none: the sum is at most what reading would find, so it refuses only what reading would.
        var known = parts.Sum(p => (long)(p.Rows ?? 0));
        if (known > MaxRowsForEveryRow) return ([], 0, NeedsEveryRow(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{known:N0} rows (at most {MaxRowsForEveryRow:N0})")));
        if (!keep && filter is null && parts.All(p => p.Rows is not null)) return ([], (int)known, null);
        var rows = new List<T>();
        int read = 0, count = 0;
        for (var i = 0; i < parts.Count; i += PartsReadAtOnce)
        {
            foreach (var loaded in await Task.WhenAll(parts.Skip(i).Take(PartsReadAtOnce).Select(p => p.Load(ct))))
            {
                read += loaded.Count;
                var selected = filter is null ? loaded : filter(loaded);
                count += selected.Count;
                if (keep) rows.AddRange(selected);
            }
            if (read > MaxRowsForEveryRow) return ([], 0, NeedsEveryRow(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"more than {MaxRowsForEveryRow:N0} rows")));
        }
        return (rows, count, null);
    }

    /// <summary>
    /// One page of rows in the parts' order: from the token's part and offset (or after skipping
    /// <paramref name="skip"/> rows), at most <paramref name="pageSize"/> rows, <paramref name="top"/>
    /// in all, reading at most <see cref="MaxPartsPerPage"/> parts, of the rows the <paramref name="filter"/> selects (null: every row).
    /// The next token is null on the last page.
    /// </summary>
    internal static async Task<(List<T> Page, Token? Next)> PageInOrderAsync<T>(IReadOnlyList<FeedPart<T>> parts, Func<IReadOnlyList<T>, IReadOnlyList<T>>? filter,
        Token? token, int skip, int top, int pageSize, CancellationToken ct)
    {
        var page = new List<T>();
        var emitted = token?.Emitted ?? 0;
        var toSkip = token?.Skip ?? skip;
        var start = token is null ? 0 : IndexOf(parts, token.Part);
        var offset = token?.Offset ?? 0;
        for (var i = start; i < parts.Count && page.Count < pageSize && emitted + page.Count < top; i++, offset = 0)
        {
            if (i - start >= MaxPartsPerPage) return (page, new Token(parts[i].Key, 0, emitted + page.Count, toSkip));
            var loaded = await parts[i].Load(ct);
            var rows = filter is null ? loaded : filter(loaded);
            var from = offset;
            if (toSkip > 0)
            {
                var skipped = Math.Min(toSkip, rows.Count - from);
                from += skipped;
                toSkip -= skipped;
            }
            var take = Math.Min(pageSize - page.Count, top - emitted - page.Count);
            var slice = rows.Skip(from).Take(take).ToList();
            page.AddRange(slice);
            if (from + slice.Count < rows.Count && page.Count >= pageSize) return (page, new Token(parts[i].Key, from + slice.Count, emitted + page.Count));
            if (page.Count >= pageSize && i + 1 < parts.Count && emitted + page.Count < top) return (page, new Token(parts[i + 1].Key, 0, emitted + page.Count));
        }
        return (page, null);
    }

    /// <summary>
    /// Validates the query option by option, so a problem names the option at fault (<c>$top</c>,
    /// <c>$filter</c>…) in words meant for the person typing the query.
    /// </summary>
    public static IActionResult? Validate<T>(ControllerBase controller, ODataQueryOptions<T> options)
    {
        var calendar = Calendar(controller);
        var raw = options.RawValues;
        foreach (var (option, value) in Unsupported(raw))
        {
            if (value is not null) return Problem(option, "is not supported by this feed");
        }
        foreach (var key in controller.Request.Query.Keys)
        {
            if (key.StartsWith('$') && !Known.Contains(key))
                return Problem(JsonFields.Truncate(key), $"is not a query option of this feed (it takes {Supported})");
            // Options are taken with their '$' only: 'filter=' would otherwise be ignored without a word.
            if (!key.StartsWith('$') && Known.Contains("$" + key))
                return Problem(JsonFields.Truncate(key), $"is written ${key} in OData");
        }
        if (raw.Format is { } format && !IsJson(format))
            return Problem("$format", "must be json: this feed answers JSON only");
        return Check("$filter", () => { options.Filter?.Validate(Validation); _ = options.Filter?.FilterClause; })
               ?? Check("$select", () => { options.SelectExpand?.Validate(Validation); _ = options.SelectExpand?.SelectExpandClause; })
               ?? Check("$orderby", () => { options.OrderBy?.Validate(Validation); _ = options.OrderBy?.OrderByClause; })
               ?? (RepeatedOrderBy(options.OrderBy?.OrderByClause) is { } repeated ? Problem("$orderby", $"names {repeated} more than once; name each property once") : null)
               ?? Check("$top", () => options.Top?.Validate(Validation))
               ?? Check("$skip", () => options.Skip?.Validate(Validation))
               ?? Check("$count", () => { options.Count?.Validate(Validation); _ = options.Count?.Value; })
               ?? (PeriodLiterals.Problem(options.Filter?.FilterClause, calendar) is { } literal ? Problem("$filter", literal) : null);
    }

    /// <summary>
    /// The first property an <c>$orderby</c> names twice (found by probing: the library refuses it only
    /// while ordering, after validation, which answered 500); null when each is named once.
    /// </summary>
    private static string? RepeatedOrderBy(Microsoft.OData.UriParser.OrderByClause? clause)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (; clause is not null; clause = clause.ThenBy)
        {
            if (clause.Expression is Microsoft.OData.UriParser.SingleValuePropertyAccessNode { Property.Name: var name } && !seen.Add(name)) return name;
        }
        return null;
    }

    /// <summary>The system query options the feed serves.</summary>
    private const string Supported = "$filter, $select, $orderby, $top, $skip, $count, $skiptoken, $format";

    /// <summary>The system query options a request may carry: those served, and those <see cref="Unsupported"/> refuses by name.</summary>
    private static readonly HashSet<string> Known = new(
        Supported.Split(", ").Concat(["$expand", "$apply", "$search", "$compute", "$deltatoken"]), StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a <c>$format</c> value asks for JSON: <c>json</c> or <c>application/json</c>, with or without parameters.</summary>
    private static bool IsJson(string format)
    {
        var mediaType = format.Split(';', 2)[0].Trim();
        return mediaType.Equals("json", StringComparison.OrdinalIgnoreCase) || mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The reporting calendar, whose periods the feeds serve and whose zone a date literal is read in.</summary>
    public static PeriodCalendar Calendar(ControllerBase controller) => controller.HttpContext.RequestServices.GetRequiredService<CrmMetricsSettings>().Calendar;

    private static IEnumerable<(string Option, string? Value)> Unsupported(ODataRawQueryOptions raw) =>
        [("$expand", raw.Expand), ("$apply", raw.Apply), ("$search", raw.Search), ("$compute", raw.Compute), ("$deltatoken", raw.DeltaToken)];

    private static IActionResult? Check(string option, Action validate)
    {
        try
        {
            validate();
            return null;
        }
        catch (Exception e) when (e is ODataException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return Problem(option, UserMessage(e.Message));
        }
        catch (OverflowException)
        {
            // A literal the compared property's type cannot hold: 1e30 or NaN against a decimal.
            return Problem(option, "compares a property with a number its type cannot hold (a decimal holds at most 28 significant digits and no NaN or INF); use a smaller literal");
        }
    }

    /// <summary>The library's message without its advice to the service's developer (settings to change) or its internal error codes.</summary>
    private static string UserMessage(string message)
    {
        if (message.StartsWith("An internal error", StringComparison.Ordinal))
            return "could not be read: an operator is used with values it does not take (for example 'has', which applies to enumerations, and this feed has none); check each comparison's two sides";
        var sentences = Regex.Split(message, @"(?<=\.)\s+").Where(s => !DeveloperAdvice().IsMatch(s));
        return string.Join(" ", sentences);
    }

    [GeneratedRegex(@"EnableQueryAttribute|ValidationSettings|QuerySettings")]
    private static partial Regex DeveloperAdvice();

    /// <summary>An entity read by key (its <c>@odata.id</c>), or a 404 problem naming the key when there is none.</summary>
    public static IActionResult Entity<T>(ControllerBase controller, T? entity, string set, string key) where T : class =>
        entity is not null
            ? controller.Ok(entity)
            : new HttpResultAction(Problems.NotFound($"There is no entity '{Domain.Validation.JsonFields.Truncate(key)}' in {set}: a key is the id of a row {set} serves now (of a period's latest version)."));

    /// <summary>A 400 problem naming the query option, in the API's one error shape.</summary>
    public static IActionResult Problem(string option, string message) => new HttpResultAction(Problems.Validation(option, message));

    /// <summary>Runs a minimal-API result (the API's problem details) from an MVC action.</summary>
    private sealed class HttpResultAction(IResult result) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => result.ExecuteAsync(context.HttpContext);
    }

    private static int IndexOf<T>(IReadOnlyList<FeedPart<T>> parts, string key)
    {
        for (var i = 0; i < parts.Count; i++)
        {
            if (string.CompareOrdinal(parts[i].Key, key) >= 0) return i;
        }
        return parts.Count;
    }

    /// <summary>What a page token is bound to: the entity set and the options that decide which rows come in which order.</summary>
    internal static string QueryOf(PathString path, ODataRawQueryOptions raw)
    {
        var text = string.Join("\n", path.Value, raw.Filter, raw.OrderBy, raw.Top, raw.Count);
        return System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text))[..12]);
    }

    /// <summary>
    /// The next page's address: the request's, with the token in place of <c>$skiptoken</c> and <c>$skip</c>; at
    /// <paramref name="publicBase"/> (<c>CrmMetrics:PublicBaseUrl</c>) when one is set, since the request's Host
    /// is the client's to write, and a link built from it could carry the key in its query to another host
    /// (found by a security probe).
    /// </summary>
    internal static Uri NextLink(HttpRequest request, Token token, string? publicBase)
    {
        var query = request.Query.Where(q => q.Key is not ("$skiptoken" or "$skip")).SelectMany(q => q.Value.Select(v => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append("$skiptoken=" + Uri.EscapeDataString(Encode(token)));
        return new Uri($"{publicBase ?? $"{request.Scheme}://{request.Host}{request.PathBase}"}{request.Path}?{string.Join("&", query)}");
    }

    private static string Encode(Token token) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(token)));

    private static Token? Decode(string text)
    {
        try
        {
            var token = JsonSerializer.Deserialize<Token>(Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(text)));
            return token is { Part: not null, Offset: >= 0, Emitted: >= 0, Skip: >= 0 } ? token : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }
}
