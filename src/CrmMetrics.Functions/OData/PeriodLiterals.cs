using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Api;
using CrmMetrics.Domain.Validation;
using Microsoft.OData.UriParser;

namespace CrmMetrics.Functions.OData;

/// <summary>
/// Checks the text a <c>$filter</c> compares Grain and Period with, as the API checks its <c>grain</c> and
/// <c>period</c> parameters: a literal that is no grain or no period key of the reporting calendar (of the
/// grain its own 'and' chain names) is an error, not an empty answer; so is a text too long for any property,
/// and an 'in' whose list is empty.
/// </summary>
public static class PeriodLiterals
{
    /// <summary>The first literal that is not acceptable, said for the person who typed it; null when all are.</summary>
    public static string? Problem(FilterClause? filter, PeriodCalendar calendar) =>
        filter is null ? null : Visit(filter.Expression, null, calendar);

    private static string? Visit(QueryNode node, Grain? grain, PeriodCalendar calendar)
    {
        switch (node)
        {
            case ConvertNode convert:
                return Visit(convert.Source, grain, calendar);
            case BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and:
                var conjuncts = Conjuncts(and).ToList();
                var chainGrain = grain ?? conjuncts.Select(GrainNamed).FirstOrDefault(g => g is not null);
                return conjuncts.Select(c => Visit(c, chainGrain, calendar)).FirstOrDefault(p => p is not null);
            case BinaryOperatorNode binary when PartitionFilter.TryComparison(binary, out var property, out _, out var value) && value is string text:
                return Check(property, text, grain, calendar);
            case BinaryOperatorNode binary:
                return Visit(binary.Left, grain, calendar) ?? Visit(binary.Right, grain, calendar);
            // Found by probing: 'period in ()' answered an empty page with a next link, paging through every period.
            // OData's grammar wants at least one item in a list.
            case InNode { Right: CollectionConstantNode { Collection.Count: 0 } }:
                return "has an 'in' with an empty list '()'; list at least one value";
            // Period in ('2026-09', '2026-10'): each listed key, as an 'eq' would be.
            case InNode { Left: SingleValuePropertyAccessNode { Property: var property }, Right: CollectionConstantNode list }:
                return list.Collection.Select(item => item.Value is string text ? Check(ODataModel.ClrName(property), text, grain, calendar) : null).FirstOrDefault(p => p is not null);
            case UnaryOperatorNode unary:
                return Visit(unary.Operand, null, calendar);
            default:
                return null;
        }
    }

    /// <summary>
    /// The longest text a filter compares a property that goes into the storage query with (Indicator,
    /// Family, Scope, Grain, Period): longer than any of their values (the API's parameters take as much).
    /// An alert's message may be longer, and is compared in memory.
    /// </summary>
    public const int MaxLiteralLength = 512;

    /// <param name="property">The entity class's property (<see cref="ODataModel.ClrName"/>); messages name the feed's member.</param>
    private static string? Check(string property, string text, Grain? grain, PeriodCalendar calendar)
    {
        var member = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(property);
        return property switch
        {
            // Found by probing: a 10,000-character Indicator literal went into the storage query, which storage refused (a 500).
            "Indicator" or "Family" or "Scope" or "Grain" or "Period" when text.Length > MaxLiteralLength => $"{member} '{JsonFields.Truncate(text)}' is longer than {MaxLiteralLength} characters, which no {member} is",
            "Grain" when !QueryParameters.TryGrain(text, out _, out var error) => $"{member} '{JsonFields.Truncate(text)}' {error}",
            "Period" when !QueryParameters.TryPeriod(calendar, text, grain, out _, out var error) => $"{member} '{JsonFields.Truncate(text)}' {error}",
            _ => null,
        };
    }

    private static IEnumerable<QueryNode> Conjuncts(QueryNode node) => node switch
    {
        ConvertNode convert => Conjuncts(convert.Source),
        BinaryOperatorNode { OperatorKind: BinaryOperatorKind.And } and => Conjuncts(and.Left).Concat(Conjuncts(and.Right)),
        _ => [node],
    };

    private static Grain? GrainNamed(QueryNode node) =>
        node is BinaryOperatorNode binary && PartitionFilter.TryComparison(binary, out var property, out var op, out var value)
        && property == "Grain" && op == BinaryOperatorKind.Equal && value is string text && Grains.TryParse(text, out var grain) ? grain : null;
}
