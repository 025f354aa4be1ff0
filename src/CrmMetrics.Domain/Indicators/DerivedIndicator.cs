using System.Text.Json;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Indicators;

/// <summary>
/// An indicator an administrator defines (contract: indicators.md, derived indicators): an
/// expression over catalog indicators of the same scope and period, with a unit and a direction.
/// Stored as data; the catalog itself never changes.
/// </summary>
public sealed record DerivedIndicator
{
    public required string Id { get; init; }
    public required string Name { get; init; }

    /// <summary>The name in Persian alerts; the English name when not given.</summary>
    public string? NameFa { get; init; }

    public required string Expression { get; init; }
    public required string Unit { get; init; }
    public required Direction Direction { get; init; }
    public IndicatorKind Kind { get; init; } = IndicatorKind.Internal;
    public string? Description { get; init; }

    /// <summary>The catalog's units, which alerts write with their sign or word; any other short label is kept as given and written as a plain number.</summary>
    public static readonly IReadOnlyList<string> Units = ["currency", "count", "%", "score", "ratio", "hours", "seconds", "per 1,000", "index"];

    /// <summary>Every member a definition's body may carry: those read, and those GET shows (a document read back is sent as it is).</summary>
    private static readonly string[] Members = ["id", "family", "name", "nameFa", "expression", "operands", "unit", "direction", "kind", "ratioScale", "description"];

    /// <summary>
    /// Reads a definition from a PUT body and checks its expression against the catalog and the other
    /// definitions (<paramref name="others"/>, this one excluded or replaced): unknown indicators,
    /// indicators that are not per-scope values, cycles and division by a constant zero are refused,
    /// each problem naming the part of the expression.
    /// </summary>
    public static DerivedIndicator? Read(string id, JsonElement body, IReadOnlyDictionary<string, DerivedIndicator> others, ValidationErrors errors)
    {
        if (!IndicatorCatalog.IsDerivedId(id))
        {
            errors.Add("id", IndicatorCatalog.IsKnown(id) || IndicatorCatalog.Find(id) is not null
                ? $"'{JsonFields.Truncate(id)}' is a catalog indicator and cannot be redefined; a derived indicator's id is derived.<name>"
                : "must be derived.<name> with a name of 1–64 characters A–Z, a–z, 0–9, '-', '_' and '.', starting with a letter or digit (for example derived.revenue-per-contact)");
        }
        var f = new JsonFields(body, errors);
        f.SameAsAddress("id", id);
        var name = f.DisplayName("name", true);
        var nameFa = f.DisplayName("nameFa", false);
        var unit = f.String("unit", true, s => s.Length is >= 1 and <= 32 && !s.Any(char.IsControl) ? null
            : $"must be 1–32 characters without control characters, such as {string.Join(", ", Units)}");
        var directionText = f.OneOf("direction", true, ["higher", "lower"]);
        var kindText = f.OneOf("kind", false, ["external", "internal"]);
        var description = f.String("description", false, s => s.Length <= 1000 && !s.Any(c => char.IsControl(c) && c is not '\n') ? null : "must be at most 1000 characters without control characters");
        var expression = f.String("expression", true);
        if (expression is not null) CheckExpression(id, expression, others, errors);
        f.RefuseMisspelt(Members, "a derived indicator");
        if (!errors.IsEmpty) return null;
        return new DerivedIndicator
        {
            Id = id,
            Name = name!,
            NameFa = nameFa,
            Expression = expression!.Trim(),
            Unit = unit!,
            Direction = directionText == "lower" ? Direction.Lower : Direction.Higher,
            Kind = kindText == "external" ? IndicatorKind.External : IndicatorKind.Internal,
            Description = description,
        };
    }

    private static void CheckExpression(string id, string text, IReadOnlyDictionary<string, DerivedIndicator> others, ValidationErrors errors)
    {
        var expression = IndicatorExpression.TryParse(text, out var problem);
        if (expression is null)
        {
            errors.Add("expression", problem!);
            return;
        }
        if (expression.Operands.Count == 0) errors.Add("expression", "must name at least one indicator (a constant is not an indicator)");
        foreach (var operand in expression.Operands)
        {
            if (operand == id) errors.Add("expression", $"'{operand}' refers to the indicator itself: that would make a cycle");
            else if (IndicatorCatalog.Find(operand) is { Compute: not null }) continue;
            else if (others.ContainsKey(operand))
            {
                if (DependencyPath.Find(operand, id, o => others.TryGetValue(o, out var d) ? IndicatorExpression.TryParse(d.Expression, out _)?.Operands ?? [] : []) is { } path)
                    errors.Add("expression", $"'{operand}' would make a cycle: {string.Join(" → ", path.Prepend(id))}");
            }
            else if (IndicatorCatalog.IsKnown(operand) && !IndicatorCatalog.IsDerivedId(operand))
                errors.Add("expression", $"'{JsonFields.Truncate(operand)}' cannot be an operand: an expression combines base indicators and other derived indicators of one scope");
            else
                errors.Add("expression", $"'{JsonFields.Truncate(operand)}' is not an indicator of the catalog or a derived indicator" +
                                         (operand.Contains('-') && operand.Split('-').Any(IndicatorCatalog.IsKnown) ? " (put a space before '-' to subtract)" : ""));
        }
        foreach (var divisor in expression.ConstantZeroDivisors())
            errors.Add("expression", $"divides by zero: '{expression.Part(divisor)}' is always 0");
    }

    /// <summary>The catalog-shaped definition snapshot rows, reads and alerts use.</summary>
    public IndicatorDefinition ToDefinition(bool ratioScale) => new()
    {
        Id = Id, Family = Families.Derived, Unit = Unit, Direction = Direction, Kind = Kind,
        Description = Description ?? $"{Name}: {Expression}", RatioScale = ratioScale,
    };
}
