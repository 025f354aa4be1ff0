using CrmMetrics.Domain.Indicators;

namespace CrmMetrics.Domain.Tests.Indicators;

public class IndicatorExpressionTests
{
    private static readonly Dictionary<string, double?> Values = new()
    {
        ["com.revenue"] = 12_000, ["cx.interactions"] = 400, ["cx.csat"] = 80, ["cx.fcr"] = 60, ["cx.nps"] = -20, ["cx.ces"] = null, ["com.orders"] = 0,
    };

    private static double? Eval(string text)
    {
        var expression = IndicatorExpression.TryParse(text, out var problem) ?? throw new InvalidOperationException(problem);
        return expression.Evaluate(id => Values[id]);
    }

    [Theory]
    [InlineData("com.revenue / cx.interactions", 30.0)]
    [InlineData("cx.csat * 0.5 + cx.fcr * 0.5", 70.0)]
    [InlineData("cx.csat - cx.fcr * 2", -40.0)]             // * before -
    [InlineData("(cx.csat - cx.fcr) * 2", 40.0)]
    [InlineData("-cx.nps", 20.0)]
    [InlineData("10 - -cx.nps", -10.0)]
    [InlineData("min(cx.csat, cx.fcr) + max(cx.csat, 100)", 160.0)]
    [InlineData("abs(cx.nps) / 4", 5.0)]
    [InlineData("cx.csat × 2 ÷ 4 − 1", 39.0)]             // the issue's own signs
    [InlineData("  cx.csat/2  ", 40.0)]
    [InlineData("100 * (cx.fcr / cx.csat)", 75.0)]
    public void Evaluates_with_the_usual_precedence(string text, double expected) =>
        Assert.Equal(expected, Eval(text)!.Value, 9);

    [Theory]
    [InlineData("cx.ces * 2")]                   // a null operand
    [InlineData("min(cx.ces, cx.csat)")]
    [InlineData("com.revenue / com.orders")]     // division by zero
    [InlineData("cx.csat / (cx.fcr - 60)")]
    public void A_null_operand_or_a_division_by_zero_gives_null(string text) => Assert.Null(Eval(text));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("cx.csat +", "ends where")]
    [InlineData("(cx.csat + 1", "'(' is never closed (at character 1)")]
    [InlineData("cx.csat + 1)", "unexpected ')' (at character 12)")]
    [InlineData("sqrt(cx.csat)", "'sqrt' is not a function")]
    [InlineData("min(cx.csat)", "'min(cx.csat)': min takes two arguments, not 1")]
    [InlineData("abs(cx.csat, 2)", "abs takes one argument")]
    [InlineData("cx.csat % 2", "unexpected '%'")]
    [InlineData("1.2.3 * cx.csat", "'1.2.3' is not a number")]
    public void A_malformed_expression_names_the_part_and_where_it_is(string text, string problem)
    {
        Assert.Null(IndicatorExpression.TryParse(text, out var message));
        Assert.Contains(problem, message);
    }

    [Fact]
    public void Deep_nesting_is_refused_rather_than_overflowing_the_stack()
    {
        Assert.Null(IndicatorExpression.TryParse(new string('(', 400) + "cx.csat" + new string(')', 400), out var problem));
        Assert.Contains("nested more than", problem);
        Assert.Null(IndicatorExpression.TryParse(new string('-', 500) + "cx.csat", out problem));
        Assert.Contains("nested more than", problem);
    }

    [Fact]
    public void Operands_are_listed_once_and_constant_zero_divisors_are_found()
    {
        var e = IndicatorExpression.TryParse("cx.csat / 0 + cx.csat / (2 - 2) + cx.fcr / cx.fcr", out _)!;
        Assert.Equal(["cx.csat", "cx.fcr"], e.Operands);
        Assert.Equal(["0", "(2 - 2)"], e.ConstantZeroDivisors().Select(e.Part));
    }

    [Fact]
    public void A_constant_divisor_is_zero_as_written_not_as_binary_floating_point_rounds_it()
    {
        // Found by probing: 0.1 + 0.2 - 0.3 is 5.6e-17 in double, so com.revenue / (0.1+0.2-0.3) was accepted and gave 1.8e19 times the revenue.
        var e = IndicatorExpression.TryParse("com.revenue / (0.1+0.2-0.3) + com.revenue / (0.3 - 0.1 * 3) + com.revenue / (0.1 + 0.2) + com.revenue / min(0.5, 0)", out _)!;
        Assert.Equal(["(0.1+0.2-0.3)", "(0.3 - 0.1 * 3)", "min(0.5, 0)"], e.ConstantZeroDivisors().Select(e.Part));
        // Constants beyond what decimal holds exactly are still judged in double.
        const string big = "100000000000000000000000000000", tiny = "0.000000000000000000000000000001";
        var edge = IndicatorExpression.TryParse($"cx.csat / ({big} - {big}) + cx.csat / ({big} * 2) + cx.csat / {tiny} + cx.csat / (0.00000000000001 * 0.00000000000001 * 0.01)", out _)!;
        Assert.Equal([$"({big} - {big})"], edge.ConstantZeroDivisors().Select(edge.Part));
        // Literals count as written, beyond double's 15 digits; and a divisor that is zero in double, where the
        // value is computed, is refused too, since the quotient would never be a number (found in review).
        var written = IndicatorExpression.TryParse("com.revenue / (1.000000000000001 - 1) + com.revenue / (1/3*3 - 1) + com.revenue / (1 + 0.00000000000000000001 - 1)", out _)!;
        Assert.Equal(["(1/3*3 - 1)", "(1 + 0.00000000000000000001 - 1)"], written.ConstantZeroDivisors().Select(written.Part));
    }

    [Theory]
    [InlineData("com.revenue / cx.interactions", true)]
    [InlineData("cx.csat * 0.5 + cx.fcr * 0.5", true)]
    [InlineData("cx.csat - cx.fcr", false)]
    [InlineData("abs(cx.csat - cx.fcr)", true)]
    [InlineData("max(cx.nps, 0)", true)]
    [InlineData("min(cx.nps, 10)", false)]
    [InlineData("cx.nps * 2", false)]
    [InlineData("-1 * cx.csat", false)]
    public void Never_negative_only_when_every_path_keeps_values_at_or_above_zero(string text, bool expected) =>
        Assert.Equal(expected, IndicatorExpression.TryParse(text, out _)!.NeverNegative(id => IndicatorCatalog.Find(id)!.RatioScale));
}
