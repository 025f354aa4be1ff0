using System.Diagnostics;
using Azure.Data.Tables;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Storage.Account;
using Microsoft.OData.Edm;
using Microsoft.OData.UriParser;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// What an OData <c>$filter</c> says about which snapshot partitions to read. Conjuncts comparing
/// Grain, Period, PeriodStart or ComputedAt with a constant select periods (pushed to the table of
/// latest versions as parameterised filters); equality on Indicator, Family or Scope narrows the rows
/// read inside each period; anything else is evaluated on the rows of the selected periods only.
/// </summary>
public sealed class PartitionFilter
{
    private static readonly HashSet<string> SnapshotPeriodProperties = ["Grain", "Period", "PeriodStart", "ComputedAt"];
    private static readonly HashSet<string> RowProperties = ["Indicator", "Family", "Scope"];
    private readonly HashSet<string> _periodProperties;

    private readonly PeriodCalendar _calendar;

    private PartitionFilter(PeriodCalendar calendar, IEnumerable<string>? periodProperties)
    {
        _calendar = calendar;
        _periodProperties = periodProperties?.ToHashSet() ?? SnapshotPeriodProperties;
    }

    private readonly List<(string Property, BinaryOperatorKind Op, object Value)> _periods = [];
    private readonly Dictionary<string, string> _rows = new(StringComparer.Ordinal);

    /// <summary>Whether some condition limits which periods are read.</summary>
    public bool SelectsPeriods => _periods.Count > 0;

    /// <summary>Whether the filter has conditions beyond choosing periods (evaluated on each period's rows).</summary>
    public bool HasRowConditions { get; private set; }

    /// <summary>Lower bound on a time property (for feeds that start from a time), if the filter gives one.</summary>
    public DateTimeOffset? LowerBound(string property) => _periods
        .Where(p => p.Property == property && p.Op is BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual or BinaryOperatorKind.Equal)
        .Select(p => p.Value as DateTimeOffset?)
        .Where(d => d is not null).Max();

    public string? Indicator => _rows.GetValueOrDefault("Indicator");
    public string? Family => _rows.GetValueOrDefault("Family");
    public string? Scope => _rows.GetValueOrDefault("Scope");

    /// <param name="filter">The request's <c>$filter</c>, if any.</param>
    /// <param name="calendar">The reporting calendar: a date literal means the start of that day in its zone.</param>
    /// <param name="periodProperties">The properties that select parts of the feed (default: the snapshot period properties).</param>
    public static PartitionFilter From(FilterClause? filter, PeriodCalendar calendar, IEnumerable<string>? periodProperties = null)
    {
        var result = new PartitionFilter(calendar, periodProperties);
        if (filter is not null) result.Collect(filter.Expression);
        return result;
    }

    private void Collect(QueryNode node)
    {
        // The parser wraps boolean subexpressions in conversions (to nullable booleans): look through them.
        if (node is ConvertNode convert)
        {
            Collect(convert.Source);
            return;
        }
        if (node is BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and)
        {
            Collect(and.Left);
            Collect(and.Right);
            return;
        }
        if (node is BinaryOperatorNode comparison && TryComparison(comparison, out var property, out var op, out var value))
        {
            if (_periodProperties.Contains(property) && property is not ("Grain" or "Period") && DateOf(value) is { } date)
            {
                AddDateCondition(property, op, date);
                return;
            }
            if (_periodProperties.Contains(property) && PeriodValue(property, value) is { } periodValue)
            {
                _periods.Add((property, op, periodValue));
                return;
            }
            if (RowProperties.Contains(property) && op == BinaryOperatorKind.Equal && value is string text)
            {
                _rows.TryAdd(property, text);
                HasRowConditions = true; // also re-checked on the rows, which is harmless
                return;
            }
        }
        HasRowConditions = true;
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
    /// <c>ne</c> selects nothing and is left to the rows.
    /// </summary>
    private void AddDateCondition(string property, BinaryOperatorKind op, DateOnly date)
    {
        var start = _calendar.StartOfDay(date);
        var next = date < DateOnly.MaxValue ? _calendar.StartOfDay(date.AddDays(1)) : DateTimeOffset.MaxValue;
        switch (op)
        {
            case BinaryOperatorKind.Equal:
                _periods.Add((property, BinaryOperatorKind.GreaterThanOrEqual, start));
                _periods.Add((property, BinaryOperatorKind.LessThan, next));
                break;
            case BinaryOperatorKind.GreaterThan:
                _periods.Add((property, BinaryOperatorKind.GreaterThanOrEqual, next));
                break;
            case BinaryOperatorKind.GreaterThanOrEqual:
                _periods.Add((property, BinaryOperatorKind.GreaterThanOrEqual, start));
                break;
            case BinaryOperatorKind.LessThan:
                _periods.Add((property, BinaryOperatorKind.LessThan, start));
                break;
            case BinaryOperatorKind.LessThanOrEqual:
                _periods.Add((property, BinaryOperatorKind.LessThan, next));
                break;
            default:
                HasRowConditions = true;
                break;
        }
    }

    /// <summary>The condition on the latest-version table (PartitionKey grain, RowKey period), built only with parameterised filters.</summary>
    public string PointerFilter()
    {
        var parts = new List<string>();
        foreach (var (property, op, value) in _periods)
        {
            var symbol = op switch
            {
                BinaryOperatorKind.Equal => "eq",
                BinaryOperatorKind.NotEqual => "ne",
                BinaryOperatorKind.GreaterThan => "gt",
                BinaryOperatorKind.GreaterThanOrEqual => "ge",
                BinaryOperatorKind.LessThan => "lt",
                _ => "le",
            };
            parts.Add((property, value) switch
            {
                ("Grain", string grain) => Compare("PartitionKey", symbol, grain),
                ("Period", string period) => Compare("RowKey", symbol, StorageKeys.Encode(period)),
                (_, DateTimeOffset instant) => Compare(property, symbol, instant),
                _ => throw new UnreachableException("Collect keeps text for Grain and Period and instants for the rest"),
            });
        }
        return string.Join(" and ", parts);
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
        SingleValuePropertyAccessNode p when p.Source is ResourceRangeVariableReferenceNode => p.Property.Name,
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
