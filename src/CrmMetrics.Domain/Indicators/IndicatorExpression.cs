using System.Globalization;

namespace CrmMetrics.Domain.Indicators;

/// <summary>A part of an expression, with where it stands in the text (so a problem can name it).</summary>
public abstract record ExpressionNode(int Start, int Length);

public sealed record NumberNode(double Value, int Start, int Length) : ExpressionNode(Start, Length);

public sealed record OperandNode(string Indicator, int Start, int Length) : ExpressionNode(Start, Length);

public sealed record NegateNode(ExpressionNode Inner, int Start, int Length) : ExpressionNode(Start, Length);

/// <summary><c>+ - * /</c>.</summary>
public sealed record BinaryNode(char Operator, ExpressionNode Left, ExpressionNode Right, int Start, int Length) : ExpressionNode(Start, Length);

/// <summary><c>min(a, b)</c>, <c>max(a, b)</c>, <c>abs(a)</c>.</summary>
public sealed record CallNode(string Function, IReadOnlyList<ExpressionNode> Arguments, int Start, int Length) : ExpressionNode(Start, Length);

/// <summary>
/// An indicator expression (contract: indicators.md, derived indicators): indicator ids of one scope
/// and period, numbers, <c>+ - * /</c> (also <c>− × ÷</c>), parentheses, <c>min(a, b)</c>,
/// <c>max(a, b)</c> and <c>abs(a)</c>. Evaluation is total: a null operand, a division by zero or a
/// result that is not a finite number gives null, never an error.
/// </summary>
/// <remarks>
/// Indicator ids contain '-' (<c>cx.resolution-hours-p90</c>), so a minus between two ids needs a
/// space before it: <c>com.revenue - com.won-deal-revenue</c>.
/// </remarks>
public sealed class IndicatorExpression
{
    public const int MaxLength = 1000;
    private const int MaxDepth = 32;

    private IndicatorExpression(string text, ExpressionNode root)
    {
        Text = text;
        Root = root;
        Operands = Walk(root).OfType<OperandNode>().Select(o => o.Indicator).Distinct(StringComparer.Ordinal).ToList();
    }

    public string Text { get; }
    public ExpressionNode Root { get; }

    /// <summary>The indicator ids the expression reads, each once, in order of appearance.</summary>
    public IReadOnlyList<string> Operands { get; }

    /// <summary>The text of one part, as the author wrote it.</summary>
    public string Part(ExpressionNode node) => Text.Substring(node.Start, node.Length).Trim();

    /// <summary>Parses <paramref name="text"/>; on failure returns null and a problem naming the part and its position.</summary>
    public static IndicatorExpression? TryParse(string text, out string? problem)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "must not be empty";
            return null;
        }
        if (text.Length > MaxLength)
        {
            problem = $"must be at most {MaxLength} characters";
            return null;
        }
        var parser = new Parser(text);
        var root = parser.Parse(out problem);
        return root is null ? null : new IndicatorExpression(text, root);
    }

    /// <summary>The value for one scope and period; <paramref name="valueOf"/> gives an operand's value (null when it has none).</summary>
    public double? Evaluate(Func<string, double?> valueOf) => Finite(Eval(Root, valueOf));

    /// <summary>Divisors that are constants evaluating to zero (<c>x / 0</c>, <c>x / (2 - 2)</c>): refused when the expression is defined.</summary>
    public IEnumerable<ExpressionNode> ConstantZeroDivisors() =>
        Walk(Root).OfType<BinaryNode>().Where(b => b.Operator == '/' && IsConstant(b.Right)
            // Zero as written (0.1 + 0.2 - 0.3), or zero as evaluated, in double (1/3*3 - 1): either way the quotient is never a number.
            && (Exact(b.Right) == 0 || Eval(b.Right, _ => null) is 0 or null)).Select(b => b.Right);

    /// <summary>
    /// A constant's value as written, in decimal: literals read from their text, so 0.1 + 0.2 - 0.3 is
    /// 0 (binary floating point leaves 5.6e-17); null where decimal cannot hold it exactly (beyond its
    /// range, more than 28 decimal places, or a product or quotient too small for it).
    /// </summary>
    private decimal? Exact(ExpressionNode node)
    {
        try
        {
            return node switch
            {
                NumberNode n => decimal.TryParse(Part(n), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var d)
                                && (d != 0 || n.Value == 0) ? d : null,
                NegateNode neg => -Exact(neg.Inner),
                BinaryNode b when Exact(b.Left) is { } left && Exact(b.Right) is { } right => b.Operator switch
                {
                    '+' => left + right,
                    '-' => left - right,
                    '*' => left * right is var product && (product != 0 || left == 0 || right == 0) ? product : null,
                    _ => right == 0 ? null : left / right is var quotient && (quotient != 0 || left == 0) ? quotient : null,
                },
                CallNode c when c.Arguments.Select(Exact).ToList() is var args && args.All(a => a is not null) => c.Function switch
                {
                    "min" => args.Min(),
                    "max" => args.Max(),
                    _ => Math.Abs(args[0]!.Value),
                },
                _ => null,
            };
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether every value the expression can take is at least 0, given which operands are (ratio-scale
    /// indicators): sums, products and quotients of such values are; a difference or a negation may not be.
    /// </summary>
    public bool NeverNegative(Func<string, bool> operandNeverNegative) => NonNegative(Root, operandNeverNegative);

    private static bool NonNegative(ExpressionNode node, Func<string, bool> operand) => node switch
    {
        NumberNode n => n.Value >= 0,
        OperandNode o => operand(o.Indicator),
        NegateNode => false,
        BinaryNode { Operator: '-' } => false,
        BinaryNode b => NonNegative(b.Left, operand) && NonNegative(b.Right, operand),
        CallNode { Function: "abs" } => true,
        CallNode { Function: "max" } c => c.Arguments.Any(a => NonNegative(a, operand)),
        CallNode c => c.Arguments.All(a => NonNegative(a, operand)),
        _ => false,
    };

    private static bool IsConstant(ExpressionNode node) => !Walk(node).OfType<OperandNode>().Any();

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private static double? Eval(ExpressionNode node, Func<string, double?> valueOf)
    {
        switch (node)
        {
            case NumberNode n:
                return n.Value;
            case OperandNode o:
                return Finite(valueOf(o.Indicator));
            case NegateNode neg:
                return -Eval(neg.Inner, valueOf);
            case BinaryNode b:
            {
                if (Eval(b.Left, valueOf) is not { } left || Eval(b.Right, valueOf) is not { } right) return null;
                return Finite(b.Operator switch
                {
                    '+' => left + right,
                    '-' => left - right,
                    '*' => left * right,
                    _ => right == 0 ? null : left / right,
                });
            }
            case CallNode c:
            {
                var args = new double[c.Arguments.Count];
                for (var i = 0; i < args.Length; i++)
                {
                    if (Eval(c.Arguments[i], valueOf) is not { } a) return null;
                    args[i] = a;
                }
                return c.Function switch { "min" => args.Min(), "max" => args.Max(), _ => Math.Abs(args[0]) };
            }
            default:
                return null;
        }
    }

    private static IEnumerable<ExpressionNode> Walk(ExpressionNode node)
    {
        yield return node;
        var children = node switch
        {
            NegateNode n => [n.Inner],
            BinaryNode b => [b.Left, b.Right],
            CallNode c => c.Arguments,
            _ => (IReadOnlyList<ExpressionNode>)[],
        };
        foreach (var child in children)
        foreach (var inner in Walk(child)) yield return inner;
    }

    /// <summary>Recursive descent: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*; unary := '-' unary | primary.</summary>
    private sealed class Parser(string text)
    {
        private static readonly Dictionary<string, int> Functions = new(StringComparer.Ordinal) { ["min"] = 2, ["max"] = 2, ["abs"] = 1 };
        private int _pos;
        private int _depth;
        private string? _problem;

        public ExpressionNode? Parse(out string? problem)
        {
            var root = Expression();
            SkipSpace();
            if (root is not null && _problem is null && _pos < text.Length) Fail(_pos, $"unexpected '{Show(_pos)}'");
            problem = _problem;
            return _problem is null ? root : null;
        }

        private ExpressionNode? Expression()
        {
            if (++_depth > MaxDepth) return Fail(_pos, $"is nested more than {MaxDepth} levels deep");
            try
            {
                var left = Term();
                while (left is not null && Peek() is '+' or '-' or '−')
                {
                    var op = Next() == '+' ? '+' : '-';
                    var right = Term();
                    if (right is null) return null;
                    left = new BinaryNode(op, left, right, left.Start, right.Start + right.Length - left.Start);
                }
                return left;
            }
            finally
            {
                _depth--;
            }
        }

        private ExpressionNode? Term()
        {
            var left = Unary();
            while (left is not null && Peek() is '*' or '/' or '×' or '÷')
            {
                var op = Next() is '*' or '×' ? '*' : '/';
                var right = Unary();
                if (right is null) return null;
                left = new BinaryNode(op, left, right, left.Start, right.Start + right.Length - left.Start);
            }
            return left;
        }

        private ExpressionNode? Unary()
        {
            if (Peek() is '-' or '−' or '+')
            {
                var start = _pos;
                var sign = Next();
                if (++_depth > MaxDepth) return Fail(start, $"is nested more than {MaxDepth} levels deep");
                try
                {
                    var inner = Unary();
                    if (inner is null) return null;
                    return sign == '+' ? inner : new NegateNode(inner, start, inner.Start + inner.Length - start);
                }
                finally
                {
                    _depth--;
                }
            }
            return Primary();
        }

        private ExpressionNode? Primary()
        {
            SkipSpace();
            if (_pos >= text.Length) return Fail(_pos, "ends where a number, an indicator or '(' was expected");
            var start = _pos;
            var c = text[_pos];
            if (c == '(')
            {
                _pos++;
                var inner = Expression();
                if (inner is null) return null;
                if (Peek() != ')') return Fail(start, "'(' is never closed");
                _pos++;
                return inner with { Start = start, Length = _pos - start };
            }
            if (char.IsAsciiDigit(c) || c == '.' && _pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1]))
            {
                while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] == '.')) _pos++;
                var literal = text[start.._pos];
                if (!double.TryParse(literal, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                    return Fail(start, $"'{literal}' is not a number");
                return new NumberNode(value, start, _pos - start);
            }
            if (char.IsAsciiLetter(c))
            {
                // Indicator ids and function names: letters, digits, '.', '_' and '-'.
                while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '.' or '_' or '-')) _pos++;
                var word = text[start.._pos];
                if (Peek() == '(' && !word.Contains('.'))
                {
                    if (!Functions.TryGetValue(word, out var arity)) return Fail(start, $"'{word}' is not a function (min, max and abs are)");
                    _pos++;
                    var args = new List<ExpressionNode>();
                    if (Peek() != ')')
                    {
                        while (true)
                        {
                            var arg = Expression();
                            if (arg is null) return null;
                            args.Add(arg);
                            if (Peek() == ',') { _pos++; continue; }
                            break;
                        }
                    }
                    if (Peek() != ')') return Fail(start, $"'{word}(' is never closed");
                    _pos++;
                    if (args.Count != arity)
                        return Fail(start, $"'{text[start.._pos]}': {word} takes {(arity == 1 ? "one argument" : "two arguments")}, not {args.Count}");
                    return new CallNode(word, args, start, _pos - start);
                }
                return new OperandNode(word, start, _pos - start);
            }
            return Fail(start, $"unexpected '{Show(start)}' where a number, an indicator or '(' was expected");
        }

        private char? Peek()
        {
            SkipSpace();
            return _pos < text.Length ? text[_pos] : null;
        }

        private char Next()
        {
            SkipSpace();
            return text[_pos++];
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private string Show(int at) => text[at].ToString();

        private ExpressionNode? Fail(int at, string message)
        {
            _problem ??= $"{message} (at character {at + 1})";
            return null;
        }
    }
}
