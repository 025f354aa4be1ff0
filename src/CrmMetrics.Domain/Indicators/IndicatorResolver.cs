using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Domain.Indicators;

/// <summary>
/// The catalog together with the derived indicators defined now: what goals, rules, plans and
/// benchmarks may name, and how each is called, measured and directed. The catalog alone is
/// <see cref="Catalog"/>.
/// </summary>
public sealed class IndicatorResolver
{
    public static readonly IndicatorResolver Catalog = new([]);

    private readonly Dictionary<string, DerivedIndicator> _derived;
    private readonly Dictionary<string, IndicatorDefinition> _definitions = new(StringComparer.Ordinal);

    public IndicatorResolver(IEnumerable<DerivedIndicator> derived)
    {
        _derived = derived.ToDictionary(d => d.Id, StringComparer.Ordinal);
        Ordered = Order(_derived);
        foreach (var d in Ordered) _definitions[d.Id] = d.ToDefinition(IsRatioScaleDerived(d));
    }

    public IReadOnlyDictionary<string, DerivedIndicator> Derived => _derived;

    /// <summary>Derived indicators in an order where each comes after those it reads; definitions in a cycle are left out.</summary>
    public IReadOnlyList<DerivedIndicator> Ordered { get; }

    public IndicatorDefinition? Find(string? id) =>
        IndicatorCatalog.Find(id) ?? (id is not null && _definitions.TryGetValue(id, out var d) ? d : null);

    /// <summary>
    /// What an id a definition may name is: <see cref="Find"/>, and the instances of the benchmark patterns
    /// over what competitors may report (<c>bench.gap.cx.nps</c>, see <see cref="IndicatorCatalog.BenchmarkInstance"/>);
    /// null for unknown ids.
    /// </summary>
    public IndicatorDefinition? Describe(string? id)
    {
        if (Find(id) is { } found) return found;
        if (id is null || IndicatorCatalog.BenchmarkSubject(id) is not { } x || !IsReportable(x)) return null;
        return IndicatorCatalog.BenchmarkInstance(id, x == "market-share" ? null : Find(x), NameOf(x, persian: false));
    }

    /// <summary>An id a definition may name: a catalog id, a defined derived indicator, or a benchmark pattern over either.</summary>
    public bool IsKnown(string? id)
    {
        if (id is null) return false;
        if (IndicatorCatalog.Find(id) is not null || _derived.ContainsKey(id)) return true;
        return IndicatorCatalog.BenchmarkSubject(id) is { } x && IsReportable(x);
    }

    /// <summary>Ids with a value in every breakdown scope (what a plan's measure and gates read per staff member): base and derived indicators.</summary>
    public bool IsPerScope(string? id) => IndicatorCatalog.Find(id)?.Compute is not null || id is not null && _derived.ContainsKey(id);

    /// <summary>What a benchmark compares with competitors: market share, base indicators and derived indicators.</summary>
    public bool IsReportable(string id) => id == "market-share" || IsPerScope(id);

    /// <summary>
    /// Why <paramref name="indicator"/> never has a row at <paramref name="scope"/>, for definitions that
    /// would otherwise wait for data for ever; null when it may have one (or the indicator is unknown).
    /// Base and derived indicators have rows per org, channel, segment, region and staff member; a plan's
    /// figures per staff member; the gap and the win rate per competitor; other benchmarks for the org.
    /// </summary>
    public string? ScopeProblem(string indicator, string scope)
    {
        var kind = Aggregation.Scope.KindOf(scope);
        // indicators.md: "cx.complaint-rate per channel is not defined (null)" (found by probing: a rule on it raised a
        // no-data warning for every period of every grain).
        if (indicator == "cx.complaint-rate" && kind == "channel")
            return $"'cx.complaint-rate' is not defined per channel (customers belong to no channel), so it would never have a value at '{JsonFields.Truncate(scope)}'";
        string[]? kinds =
            IsPerScope(indicator) ? ["org", "channel", "segment", "region", "staff"]
            : Find(indicator)?.Family == Families.StaffIncentives ? ["staff"]
            : indicator == "bench.win-rate-vs" || indicator.StartsWith("bench.gap.", StringComparison.Ordinal) && IsKnown(indicator) ? ["competitor"]
            : indicator.StartsWith("bench.", StringComparison.Ordinal) && IsKnown(indicator) ? ["org"]
            : null;
        if (kinds is null || kinds.Contains(kind)) return null;
        var where = kinds.Length == 1 ? kinds[0] == "org" ? "only for the organisation (org)" : $"only per {kinds[0]} ({kinds[0]}:<name>)" : "per org, channel, segment, region and staff member, never per competitor";
        return $"'{JsonFields.Truncate(indicator)}' has values {where}, so it would never have one at '{JsonFields.Truncate(scope)}'";
    }

    /// <summary>
    /// Adds the <see cref="ScopeProblem"/> of a definition's indicator and scope to <paramref name="errors"/>
    /// (unless the scope is already refused); when the scope was left out, <paramref name="withoutScope"/> says what it defaulted to.
    /// </summary>
    public void CheckScope(string? indicator, string scope, bool scopeGiven, string withoutScope, ValidationErrors errors)
    {
        if (indicator is null || errors.Has("scope") || ScopeProblem(indicator, scope) is not { } never) return;
        errors.Add("scope", scopeGiven ? never : $"{never} ({withoutScope})");
    }

    public bool IsRatioScale(string id) => id == "market-share" || (Find(id)?.RatioScale ?? false);

    public string NameOf(string id, bool persian) =>
        IndicatorCatalog.NameOf(id, persian, (x, fa) => _derived.TryGetValue(x, out var d) ? fa ? d.NameFa ?? d.Name : d.Name : null);

    /// <summary>A derived indicator is on a ratio scale when its expression can never be negative over ratio-scale operands.</summary>
    private bool IsRatioScaleDerived(DerivedIndicator d) =>
        IndicatorExpression.TryParse(d.Expression, out _) is { } e && e.NeverNegative(id => _definitions.TryGetValue(id, out var x) ? x.RatioScale : IndicatorCatalog.Find(id)?.RatioScale ?? false);

    private static List<DerivedIndicator> Order(Dictionary<string, DerivedIndicator> derived)
    {
        var ordered = new List<DerivedIndicator>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done, 3 in a cycle
        bool Visit(string id)
        {
            if (!derived.TryGetValue(id, out var d)) return IndicatorCatalog.Find(id)?.Compute is not null;
            switch (state.GetValueOrDefault(id))
            {
                case 1: case 3: state[id] = 3; return false;
                case 2: return true;
            }
            state[id] = 1;
            var ok = IndicatorExpression.TryParse(d.Expression, out _) is { } e && e.Operands.All(Visit);
            if (state[id] == 3 || !ok)
            {
                state[id] = 3;
                return false;
            }
            state[id] = 2;
            ordered.Add(d);
            return true;
        }
        foreach (var id in derived.Keys.Order(StringComparer.Ordinal)) Visit(id);
        return ordered;
    }
}
