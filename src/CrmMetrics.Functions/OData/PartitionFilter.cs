using System.Diagnostics;
using Azure.Data.Tables;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Account;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// What an OData <c>$filter</c> says about which snapshot partitions to read. Comparisons of Grain,
/// Period, PeriodStart or ComputedAt with a constant, joined by <c>and</c>, <c>or</c> and <c>in</c>,
/// select periods (pushed to the table of latest versions as parameterised filters, in disjunctive
/// form); equality on Indicator, Family or Scope joined to the rest by <c>and</c> narrows the rows
/// read inside each period. What is pushed down selects a superset: the whole filter is still
/// evaluated on the rows read.
/// </summary>
public sealed class PartitionFilter
{
    private static readonly HashSet<string> SnapshotPeriodProperties = ["Grain", "Period", "PeriodStart", "ComputedAt"];
    private static readonly HashSet<string> RowProperties = ["Indicator", "Family", "Scope"];

    /// <summary>The most alternatives a period selection keeps; a filter that would need more reads every period.</summary>
    public const int MaxAlternatives = 64;

    private readonly HashSet<string> _periodProperties;
    private readonly PeriodCalendar _calendar;

    private PartitionFilter(PeriodCalendar calendar, IEnumerable<string>? periodProperties)
    {
        _calendar = calendar;
        _periodProperties = periodProperties?.ToHashSet() ?? SnapshotPeriodProperties;
    }

    private sealed record Condition(string Property, BinaryOperatorKind Op, object Value);

    /// <summary>The periods to read, as alternatives each of conditions that all hold; null: every period.</summary>
    private List<List<Condition>>? _selection;

    private readonly Dictionary<string, string> _rows = new(StringComparer.Ordinal);

    /// <summary>Whether some condition limits which periods are read.</summary>
    public bool SelectsPeriods => _selection is not null;

    /// <summary>Lower bound on a time property (for feeds that start from a time): the earliest of each alternative's bound, if every alternative has one.</summary>
    public DateTimeOffset? LowerBound(string property)
    {
        if (_selection is null) return null;
        DateTimeOffset? earliest = null;
        foreach (var alternative in _selection)
        {
            var bound = alternative
                .Where(c => c.Property == property && c.Op is BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual or BinaryOperatorKind.Equal)
                .Select(c => c.Value as DateTimeOffset?).Where(d => d is not null).Max();
            if (bound is null) return null;
            if (earliest is null || bound < earliest) earliest = bound;
        }
        return earliest;
    }

    public string? Indicator => _rows.GetValueOrDefault("Indicator");
    public string? Family => _rows.GetValueOrDefault("Family");
    public string? Scope => _rows.GetValueOrDefault("Scope");

    /// <param name="filter">The request's <c>$filter</c>, if any.</param>
    /// <param name="calendar">The reporting calendar: a date literal means the start of that day in its zone.</param>
    /// <param name="periodProperties">The properties that select parts of the feed (default: the snapshot period properties).</param>
    public static PartitionFilter From(FilterClause? filter, PeriodCalendar calendar, IEnumerable<string>? periodProperties = null)
    {
        var result = new PartitionFilter(calendar, periodProperties);
        if (filter is null) return result;
        result._selection = result.Select(filter.Expression);
        result.CollectRowEqualities(filter.Expression);
        return result;
    }

    /// <summary>
    /// The periods a (sub)expression can hold for, in disjunctive form; null when it does not limit
    /// them (or would need more than <see cref="MaxAlternatives"/> alternatives).
    /// </summary>
    private List<List<Condition>>? Select(QueryNode node)
    {
        switch (node)
        {
            // The parser wraps boolean subexpressions in conversions (to nullable booleans): look through them.
            case ConvertNode convert:
                return Select(convert.Source);
            case BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and:
            {
                var (left, right) = (Select(and.Left), Select(and.Right));
                if (left is null || right is null) return left ?? right;
                if (left.Count * right.Count > MaxAlternatives) return left.Count <= right.Count ? left : right;
                return left.SelectMany(l => right.Select(r => l.Concat(r).ToList())).ToList();
            }
            case BinaryOperatorNode { OperatorKind: BinaryOperatorKind.Or } or:
            {
                var (left, right) = (Select(or.Left), Select(or.Right));
                if (left is null || right is null || left.Count + right.Count > MaxAlternatives) return null;
                return [.. left, .. right];
            }
            case InNode { Left: var property, Right: CollectionConstantNode list } when Property(property) is { } name && list.Collection.Count <= MaxAlternatives:
            {
                var alternatives = new List<List<Condition>>();
                foreach (var item in list.Collection)
                {
                    if (Conditions(name, BinaryOperatorKind.Equal, item.Value) is not { } conditions) return null;
                    alternatives.Add(conditions);
                }
                return alternatives.Count == 0 ? null : alternatives;
            }
            case BinaryOperatorNode comparison when TryComparison(comparison, out var name, out var op, out var value):
                return Conditions(name, op, value) is { } found ? [found] : null;
            default:
                return null;
        }
    }

    /// <summary>The table conditions one comparison of a period property stands for; null when it does not limit the periods.</summary>
    private List<Condition>? Conditions(string property, BinaryOperatorKind op, object? value)
    {
        if (!_periodProperties.Contains(property)) return null;
        if (property is not ("Grain" or "Period") && DateOf(value) is { } date) return DateConditions(property, op, date);
        return PeriodValue(property, value) is { } periodValue ? [new Condition(property, op, periodValue)] : null;
    }

    /// <summary>Equality on Indicator, Family or Scope joined to the whole filter by <c>and</c>: only those rows are read.</summary>
    private void CollectRowEqualities(QueryNode node)
    {
        switch (node)
        {
            case ConvertNode convert:
                CollectRowEqualities(convert.Source);
                break;
            case BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and:
                CollectRowEqualities(and.Left);
                CollectRowEqualities(and.Right);
                break;
            case BinaryOperatorNode comparison when TryComparison(comparison, out var property, out var op, out var value)
                                                    && RowProperties.Contains(property) && op == BinaryOperatorKind.Equal && value is string text:
                _rows.TryAdd(property, text);
                break;
        }
    }

    /// <summary>
    /// The value a period condition compares with, as the table stores it: text for Grain and Period, an
    /// instant for the rest. Any other value leaves the condition to the rows (null).
    /// </summary>
    private static object? PeriodValue(string property, object? value) => (property, value) switch
    {
        ("Grain" or "Period", string text) => text,
        ("Grain" or "Period", _) => null,
        (_, DateTimeOffset instant) => instant,
        (_, DateTime instant) => new DateTimeOffset(DateTime.SpecifyKind(instant, DateTimeKind.Utc)),
        _ => null,
    };

    /// <summary>A date literal (<c>PeriodStart ge 2026-10-01</c>, as Power BI and Excel users type it), if the value is one.</summary>
    private static DateOnly? DateOf(object? value) => value switch
    {
        DateOnly date => date,
#pragma warning disable CS0618 // ODL 8 reads date literals as Edm.Date (ODL 9: DateOnly, above)
        Date date => new DateOnly(date.Year, date.Month, date.Day),
#pragma warning restore CS0618
        _ => null,
    };

    /// <summary>
    /// An instant compared with a date compares its local date in the reporting zone (the entities carry
    /// that zone's offset, and the library compares a date with an instant's date part): on the table
    /// that is a range of instants from the start of the day (<see cref="PeriodCalendar.StartOfDay"/>).
    /// <c>ne</c> does not limit the periods (null).
    /// </summary>
    private List<Condition>? DateConditions(string property, BinaryOperatorKind op, DateOnly date)
    {
        var start = _calendar.StartOfDay(date);
        var next = date < DateOnly.MaxValue ? _calendar.StartOfDay(date.AddDays(1)) : DateTimeOffset.MaxValue;
        return op switch
        {
            BinaryOperatorKind.Equal => [new(property, BinaryOperatorKind.GreaterThanOrEqual, start), new(property, BinaryOperatorKind.LessThan, next)],
            BinaryOperatorKind.GreaterThan => [new(property, BinaryOperatorKind.GreaterThanOrEqual, next)],
            BinaryOperatorKind.GreaterThanOrEqual => [new(property, BinaryOperatorKind.GreaterThanOrEqual, start)],
            BinaryOperatorKind.LessThan => [new(property, BinaryOperatorKind.LessThan, start)],
            BinaryOperatorKind.LessThanOrEqual => [new(property, BinaryOperatorKind.LessThan, next)],
            _ => null,
        };
    }

    /// <summary>Azure Table Storage takes at most 15 comparisons in one <c>$filter</c> (the emulator takes more).</summary>
    public const int MaxComparisonsPerQuery = 15;

    /// <summary>
    /// The conditions on the latest-version table (PartitionKey grain, RowKey period), built only with
    /// parameterised filters, as queries whose results together are the periods to read: one query of
    /// the alternatives joined by <c>or</c> when it holds at most <see cref="MaxComparisonsPerQuery"/>
    /// comparisons, else one per alternative (an alternative of more keeps its first ones: a superset);
    /// a single empty filter for every period.
    /// </summary>
    public IReadOnlyList<string> PointerFilters()
    {
        if (_selection is null) return [""];
        if (_selection.Sum(a => a.Count) <= MaxComparisonsPerQuery)
        {
            var alternatives = _selection.Select(Conjunction).ToList();
            return [alternatives.Count == 1 ? alternatives[0] : string.Join(" or ", alternatives.Select(a => $"({a})"))];
        }
        return _selection.Select(a => Conjunction(a.Take(MaxComparisonsPerQuery).ToList())).Distinct(StringComparer.Ordinal).ToList();
    }

    private static string Conjunction(List<Condition> alternative) => string.Join(" and ", alternative.Select(Compare));

    private static string Compare(Condition condition)
    {
        var symbol = condition.Op switch
        {
            BinaryOperatorKind.Equal => "eq",
            BinaryOperatorKind.NotEqual => "ne",
            BinaryOperatorKind.GreaterThan => "gt",
            BinaryOperatorKind.GreaterThanOrEqual => "ge",
            BinaryOperatorKind.LessThan => "lt",
            _ => "le",
        };
        return (condition.Property, condition.Value) switch
        {
            ("Grain", string grain) => Compare("PartitionKey", symbol, grain),
            ("Period", string period) => Compare("RowKey", symbol, StorageKeys.Encode(period)),
            (var property, DateTimeOffset instant) => Compare(property, symbol, instant),
            _ => throw new UnreachableException("Conditions keep text for Grain and Period and instants for the rest"),
        };
    }

    // Property names and operators come from fixed sets, never from the request; every value goes
    // through the SDK's escaping (CreateQueryFilter).
    private static string Compare(string property, string op, string value) => $"{property} {op} {TableClient.CreateQueryFilter($"{value}")}";

    private static string Compare(string property, string op, DateTimeOffset value) => $"{property} {op} {TableClient.CreateQueryFilter($"{value}")}";

    internal static bool TryComparison(BinaryOperatorNode node, out string property, out BinaryOperatorKind op, out object? value)
    {
        property = "";
        op = node.OperatorKind;
        value = null;
        if (op is not (BinaryOperatorKind.Equal or BinaryOperatorKind.NotEqual or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual
            or BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual)) return false;
        if (Property(node.Left) is { } left && Constant(node.Right, out var right))
        {
            (property, value) = (left, right);
            return true;
        }
        if (Property(node.Right) is { } r && Constant(node.Left, out var l))
        {
            (property, value) = (r, l);
            op = op switch
            {
                BinaryOperatorKind.GreaterThan => BinaryOperatorKind.LessThan,
                BinaryOperatorKind.GreaterThanOrEqual => BinaryOperatorKind.LessThanOrEqual,
                BinaryOperatorKind.LessThan => BinaryOperatorKind.GreaterThan,
                BinaryOperatorKind.LessThanOrEqual => BinaryOperatorKind.GreaterThanOrEqual,
                _ => op,
            };
            return true;
        }
        return false;
    }

    private static string? Property(SingleValueNode node) => node switch
    {
        SingleValuePropertyAccessNode p when p.Source is ResourceRangeVariableReferenceNode => ODataModel.ClrName(p.Property),
        ConvertNode c => Property(c.Source),
        _ => null,
    };

    private static bool Constant(SingleValueNode node, out object? value)
    {
        switch (node)
        {
            case ConstantNode c:
                value = c.Value;
                return true;
            case ConvertNode c:
                return Constant(c.Source, out value);
            default:
                value = null;
                return false;
        }
    }
}
