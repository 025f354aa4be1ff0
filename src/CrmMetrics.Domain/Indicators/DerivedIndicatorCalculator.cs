using System.Text.Json.Nodes;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Indicators;

/// <summary>
/// Derived indicators for a period: each definition, in dependency order, for every scope in which
/// all its operands have a row. A null operand or a division by zero gives a null value.
/// </summary>
public static class DerivedIndicatorCalculator
{
    public static IReadOnlyList<SnapshotRow> Rows(Period period, IReadOnlyList<SnapshotRow> computed, IndicatorResolver indicators)
    {
        var values = new Dictionary<(string Indicator, string Scope), SnapshotRow>();
        foreach (var row in computed) values[(row.Indicator, row.Scope)] = row;
        var scopes = computed.Select(r => r.Scope).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var rows = new List<SnapshotRow>();
        foreach (var derived in indicators.Ordered)
        {
            if (IndicatorExpression.TryParse(derived.Expression, out _) is not { Operands.Count: > 0 } expression) continue;
            var definition = indicators.Find(derived.Id)!;
            foreach (var scope in scopes)
            {
                if (!expression.Operands.All(o => values.ContainsKey((o, scope)))) continue;
                var value = expression.Evaluate(o => values[(o, scope)].Value);
                var factCount = expression.Operands.Max(o => values[(o, scope)].FactCount);
                var row = SnapshotRow.From(definition, scope, period, new IndicatorValue(value, factCount),
                    new JsonObject { ["name"] = derived.Name, ["expression"] = derived.Expression });
                values[(derived.Id, scope)] = row;
                rows.Add(row);
            }
        }
        return rows;
    }
}
