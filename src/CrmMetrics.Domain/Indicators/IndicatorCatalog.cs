using CrmMetrics.Domain.Aggregation;

namespace CrmMetrics.Domain.Indicators;

/// <summary>
/// The one place that lists indicators (contract/indicators.md plus a few additions). Adding an
/// indicator is adding an entry here: storage, runs and reads take it from this list.
/// </summary>
public static class IndicatorCatalog
{
    private const string Cx = Families.CustomerExperience;
    private const string Com = Families.Commercial;

    public static readonly IReadOnlyList<IndicatorDefinition> All =
    [
        // Customer experience (contract).
        Base("cx.nps", Cx, "score", Direction.Higher, IndicatorKind.External, "Net Promoter Score: % promoters (9–10) minus % detractors (0–6).",
            f => { var n = f.Aggregate.Nps.Sum(); return IndicatorValue.Ratio(Sum(f.Aggregate.Nps, 9, 10) - Sum(f.Aggregate.Nps, 0, 6), n, 100, n); }, ratioScale: false),
        Base("cx.csat", Cx, "%", Direction.Higher, IndicatorKind.External, "Customer satisfaction: % of CSAT answers scoring 4 or 5.",
            f => { var n = f.Aggregate.Csat.Sum(); return IndicatorValue.Ratio(Sum(f.Aggregate.Csat, 4, 5), n, 100, n); }),
        Base("cx.ces", Cx, "score", Direction.Higher, IndicatorKind.External, "Customer effort score: mean CES answer (1–7, 7 = easiest).",
            f => { var n = f.Aggregate.Ces.Sum(); return IndicatorValue.Ratio(WeightedSum(f.Aggregate.Ces), n, 1, n); }),
        Base("cx.complaints", Cx, "count", Direction.Lower, IndicatorKind.External, "Complaints opened in the period.",
            f => new(f.Aggregate.ComplaintsOpened, f.Aggregate.ComplaintsOpened), additive: true),
        Base("cx.complaint-rate", Cx, "per 1,000", Direction.Lower, IndicatorKind.External, "Complaints per 1,000 customers active at the end of the period.",
            f => f.ActiveAtEnd is { } active ? IndicatorValue.Ratio(f.Aggregate.ComplaintsOpened, active, 1000, f.Aggregate.ComplaintsOpened) : IndicatorValue.Null(f.Aggregate.ComplaintsOpened)),
        Base("cx.resolution-hours-p50", Cx, "hours", Direction.Lower, IndicatorKind.Internal, "Median hours from complaint opened to resolved, over complaints resolved in the period.",
            f => new(f.Aggregate.ResolutionHours.Percentile(50), f.Aggregate.Resolved)),
        Base("cx.resolution-hours-p90", Cx, "hours", Direction.Lower, IndicatorKind.Internal, "90th percentile of hours from complaint opened to resolved, over complaints resolved in the period.",
            f => new(f.Aggregate.ResolutionHours.Percentile(90), f.Aggregate.Resolved)),
        Base("cx.sla-compliance", Cx, "%", Direction.Higher, IndicatorKind.Internal, "% of complaints resolved in the period within their SLA.",
            f => IndicatorValue.Ratio(f.Aggregate.ResolvedWithinSla, f.Aggregate.Resolved, 100, f.Aggregate.Resolved)),
        Base("cx.fcr", Cx, "%", Direction.Higher, IndicatorKind.Internal, "First-contact resolution: % of flagged inbound interactions resolved at first contact.",
            f => IndicatorValue.Ratio(f.Aggregate.InboundFcrTrue, f.Aggregate.InboundWithFcrFlag, 100, f.Aggregate.InboundWithFcrFlag)),
        // Both count customers, not moves: one who churns, comes back and churns again in the period is one.
        Base("cx.churn-rate", Cx, "%", Direction.Lower, IndicatorKind.External, "Customers churned in the period per 100 active at its start.",
            f => f.ActiveAtStart is { } start ? IndicatorValue.Ratio(f.Moves.Churned, start, 100, f.Aggregate.Churned) : IndicatorValue.Null(f.Aggregate.Churned)),
        Base("cx.retention-rate", Cx, "%", Direction.Higher, IndicatorKind.External, "(Active at end − customers who became active in the period) per 100 active at the start.",
            f => f is { ActiveAtStart: { } s, ActiveAtEnd: { } e }
                ? IndicatorValue.Ratio(e - f.Moves.Activated, s, 100, f.Aggregate.NewCustomers + f.Aggregate.WinBacks + f.Aggregate.Churned)
                : IndicatorValue.Null()),

        // Commercial (contract).
        Base("com.revenue", Com, "currency", Direction.Higher, IndicatorKind.External, "Sum of order amounts in the period, in the reporting currency.",
            f => IndicatorValue.Money(f.Aggregate.Revenue, f.Aggregate.Orders), additive: true),
        Base("com.orders", Com, "count", Direction.Higher, IndicatorKind.External, "Orders in the period.",
            f => new(f.Aggregate.Orders, f.Aggregate.Orders), additive: true),
        Base("com.active-customers", Com, "count", Direction.Higher, IndicatorKind.External, "Customers active at the end of the period, over all history.",
            f => f.ActiveAtEnd is { } e ? new IndicatorValue(e, f.Aggregate.NewCustomers + f.Aggregate.WinBacks + f.Aggregate.Churned) : IndicatorValue.Null()),
        Base("com.new-customers", Com, "count", Direction.Higher, IndicatorKind.External, "First acquisitions of customers in the period.",
            f => new(f.Aggregate.NewCustomers, f.Aggregate.NewCustomers), additive: true),
        Base("com.win-backs", Com, "count", Direction.Higher, IndicatorKind.External, "Churned customers who came back in the period.",
            f => new(f.Aggregate.WinBacks, f.Aggregate.WinBacks), additive: true),
        Base("com.arpc", Com, "currency", Direction.Higher, IndicatorKind.External, "Revenue per distinct ordering customer in the period.",
            f => f.Customers.Customers == 0
                ? IndicatorValue.Null(f.Aggregate.Orders)
                : IndicatorValue.Money(f.Aggregate.Revenue / f.Customers.Customers, f.Aggregate.Orders)),
        Base("com.deal-win-rate", Com, "%", Direction.Higher, IndicatorKind.Internal, "% of deals closed in the period that were won.",
            f => IndicatorValue.Ratio(f.Aggregate.DealsWon, f.Aggregate.DealsClosed, 100, f.Aggregate.DealsClosed)),
        Base("com.avg-deal-size", Com, "currency", Direction.Higher, IndicatorKind.Internal, "Mean amount of deals won in the period.",
            f => f.Aggregate.DealsWon == 0 ? IndicatorValue.Null() : IndicatorValue.Money(f.Aggregate.WonAmount / f.Aggregate.DealsWon, f.Aggregate.DealsWon)),
        Base("com.ssc-revenue-share", Com, "%", Direction.Higher, IndicatorKind.External, "% of revenue from the top 20% of ordering customers (Buttle's strategically significant customers).",
            SscRevenueShare),

        // Additions: counts and sums that plans and goals use.
        Base("com.deals-won", Com, "count", Direction.Higher, IndicatorKind.Internal, "Deals won in the period.",
            f => new(f.Aggregate.DealsWon, f.Aggregate.DealsWon), additive: true),
        Base("com.won-deal-revenue", Com, "currency", Direction.Higher, IndicatorKind.Internal, "Sum of the amounts of deals won in the period.",
            f => IndicatorValue.Money(f.Aggregate.WonAmount, f.Aggregate.DealsWon), additive: true),
        Base("cx.interactions", Cx, "count", Direction.Higher, IndicatorKind.Internal, "Customer interactions in the period.",
            f => new(f.Aggregate.Interactions, f.Aggregate.Interactions), additive: true),
        Base("cx.avg-handle-seconds", Cx, "seconds", Direction.Lower, IndicatorKind.Internal, "Mean handling time of interactions that report it.",
            f => IndicatorValue.Ratio(f.Aggregate.HandleSecondsSum, f.Aggregate.HandleSecondsCount, 1, f.Aggregate.HandleSecondsCount)),

        // Goal attainment, staff incentives, competitor benchmarks: computed by their modules.
        Derived("goal.attainment", Families.GoalAttainment, "%", Direction.Higher, IndicatorKind.Internal, "A goal's attainment in the period; scope goal:<goalId>."),
        Derived("staff.quota-attainment", Families.StaffIncentives, "%", Direction.Higher, IndicatorKind.Internal, "100 × the plan's measure / the staff member's quota."),
        Derived("staff.incentive-payout", Families.StaffIncentives, "currency", Direction.Higher, IndicatorKind.Internal, "Tiered payout of the staff member's plan, after gates and cap."),
        Derived("bench.market-share", Families.CompetitorBenchmarks, "%", Direction.Higher, IndicatorKind.External, "100 × own revenue / market size."),
        Derived("bench.relative-market-share", Families.CompetitorBenchmarks, "ratio", Direction.Higher, IndicatorKind.External, "Own market share / the largest competitor's market share."),
        Derived("bench.win-rate-vs", Families.CompetitorBenchmarks, "%", Direction.Higher, IndicatorKind.Internal, "% of deals naming a competitor that were won; scope competitor:<C>."),
        Derived("bench.gap.<X>", Families.CompetitorBenchmarks, "as X", Direction.Higher, IndicatorKind.External, "Own X minus the competitor's X; scope competitor:<C>.", pattern: true),
        Derived("bench.index.<X>", Families.CompetitorBenchmarks, "index", Direction.Higher, IndicatorKind.External, "100 × own X / competitors' mean X (inverted when lower is better).", pattern: true),
        Derived("bench.percentile.<X>", Families.CompetitorBenchmarks, "%", Direction.Higher, IndicatorKind.External, "Share of competitors whose X is worse than own X (ties count half).", pattern: true),
    ];

    /// <summary>Names people read (alerts, digests), in English and Persian.</summary>
    private static readonly Dictionary<string, (string En, string Fa)> Names = new(StringComparer.Ordinal)
    {
        ["cx.nps"] = ("Net Promoter Score", "شاخص خالص مروجان (NPS)"),
        ["cx.csat"] = ("customer satisfaction", "رضایت مشتری"),
        ["cx.ces"] = ("customer effort score", "شاخص سهولت تعامل مشتری"),
        ["cx.complaints"] = ("complaints", "تعداد شکایت‌ها"),
        ["cx.complaint-rate"] = ("complaints per 1,000 customers", "شکایت به ازای هر هزار مشتری"),
        ["cx.resolution-hours-p50"] = ("median complaint resolution time", "میانه زمان رسیدگی به شکایت"),
        ["cx.resolution-hours-p90"] = ("90th-percentile complaint resolution time", "صدک نودم زمان رسیدگی به شکایت"),
        ["cx.sla-compliance"] = ("complaints resolved within SLA", "رسیدگی به شکایت در مهلت توافق‌شده"),
        ["cx.fcr"] = ("first-contact resolution", "حل مسئله در اولین تماس"),
        ["cx.churn-rate"] = ("customer churn rate", "نرخ ریزش مشتری"),
        ["cx.retention-rate"] = ("customer retention rate", "نرخ نگهداشت مشتری"),
        ["cx.interactions"] = ("customer interactions", "تعداد تعامل با مشتری"),
        ["cx.avg-handle-seconds"] = ("average handling time", "میانگین زمان رسیدگی به تماس"),
        ["com.revenue"] = ("revenue", "درآمد"),
        ["com.orders"] = ("orders", "تعداد سفارش‌ها"),
        ["com.active-customers"] = ("active customers", "مشتریان فعال"),
        ["com.new-customers"] = ("new customers", "مشتریان جدید"),
        ["com.win-backs"] = ("won-back customers", "مشتریان بازگشته"),
        ["com.arpc"] = ("revenue per customer", "درآمد به ازای هر مشتری"),
        ["com.deal-win-rate"] = ("deal win rate", "نرخ موفقیت در معاملات"),
        ["com.avg-deal-size"] = ("average deal size", "میانگین اندازه معامله"),
        ["com.ssc-revenue-share"] = ("revenue share of strategic customers", "سهم درآمد مشتریان راهبردی"),
        ["com.deals-won"] = ("deals won", "معاملات موفق"),
        ["com.won-deal-revenue"] = ("revenue of deals won", "ارزش معاملات موفق"),
        ["goal.attainment"] = ("goal attainment", "میزان تحقق هدف"),
        ["staff.quota-attainment"] = ("quota attainment", "تحقق سهمیه"),
        ["staff.incentive-payout"] = ("incentive payout", "پاداش تشویقی"),
        ["bench.market-share"] = ("market share", "سهم بازار"),
        ["bench.relative-market-share"] = ("relative market share", "سهم نسبی بازار"),
        ["bench.win-rate-vs"] = ("win rate against the competitor", "نرخ موفقیت در برابر رقیب"),
    };

    /// <summary>The indicator's name for people, in English or Persian; benchmark patterns name their indicator.</summary>
    public static string NameOf(string id, bool persian = false) => NameOf(id, persian, static (_, _) => null);

    /// <summary>As <see cref="NameOf(string, bool)"/>, with <paramref name="other"/> naming ids the catalog does not list (derived indicators).</summary>
    public static string NameOf(string id, bool persian, Func<string, bool, string?> other)
    {
        if (other(id, persian) is { } own) return own;
        if (Names.TryGetValue(id, out var name)) return persian ? name.Fa : name.En;
        foreach (var (prefix, en, fa) in new[] { ("bench.gap.", "gap to competitors in ", "فاصله با رقبا در "), ("bench.index.", "index against competitors for ", "شاخص مقایسه با رقبا در "), ("bench.percentile.", "rank among competitors for ", "رتبه در میان رقبا در ") })
        {
            if (id.StartsWith(prefix, StringComparison.Ordinal)) return (persian ? fa : en) + NameOf(id[prefix.Length..], persian, other);
        }
        return id == "market-share" ? (persian ? "سهم بازار" : "market share") : id;
    }

    private static readonly Dictionary<string, IndicatorDefinition> ById = All.Where(i => !i.IsPattern).ToDictionary(i => i.Id, StringComparer.Ordinal);

    public static IEnumerable<IndicatorDefinition> BaseIndicators => All.Where(i => i.Compute is not null);

    public static IndicatorDefinition? Find(string? id) => id is not null && ById.TryGetValue(id, out var d) ? d : null;

    /// <summary>
    /// Ids that competitors may report in <c>competitor.observation</c>: base indicators, market share,
    /// and derived indicators (by the form of their id: a definition may come after the observation).
    /// </summary>
    public static bool IsReportableByCompetitors(string id) => id == "market-share" || Find(id)?.Compute is not null || IsDerivedId(id);

    /// <summary>
    /// Any id a client may read: catalog ids, instances of the benchmark patterns, and well-formed
    /// derived ids (a deleted definition's rows stay readable). Definitions that must exist — goals,
    /// rules, plans — are checked against <see cref="IndicatorResolver"/> instead.
    /// </summary>
    public static bool IsKnown(string? id)
    {
        if (id is null) return false;
        if (ById.ContainsKey(id) || IsDerivedId(id)) return true;
        return BenchmarkSubject(id) is { } x && IsReportableByCompetitors(x);
    }

    public static readonly IReadOnlyList<string> BenchmarkPrefixes = ["bench.gap.", "bench.index.", "bench.percentile."];

    /// <summary>The X of <c>bench.gap.X</c>, <c>bench.index.X</c> or <c>bench.percentile.X</c>; null for other ids.</summary>
    public static string? BenchmarkSubject(string id)
    {
        foreach (var prefix in BenchmarkPrefixes)
        {
            if (id.StartsWith(prefix, StringComparison.Ordinal) && id.Length > prefix.Length) return id[prefix.Length..];
        }
        return null;
    }

    /// <summary>
    /// The definition of one instance of a benchmark pattern (<c>bench.gap.cx.nps</c>), as its rows carry it:
    /// a gap in its subject's unit and direction (market share and subjects nothing defines: "%", higher),
    /// an index in "index" and a percentile in "%", both higher-better. <paramref name="subject"/> is the
    /// definition of X (null for market share). Null for ids that are no instance of a pattern.
    /// </summary>
    public static IndicatorDefinition? BenchmarkInstance(string id, IndicatorDefinition? subject, string subjectName)
    {
        if (BenchmarkSubject(id) is null) return null;
        var (unit, direction, description) = id[..id.IndexOf('.', "bench.".Length)] switch
        {
            "bench.gap" => (subject?.Unit ?? "%", subject?.Direction ?? Direction.Higher, $"Own {subjectName} minus the competitor's; scope competitor:<C>."),
            "bench.index" => ("index", Direction.Higher, $"100 × own {subjectName} / the competitors' mean (inverted when lower is better); null off a ratio scale."),
            _ => ("%", Direction.Higher, $"Share of the competitors whose {subjectName} is worse than our own (ties count half)."),
        };
        return new IndicatorDefinition
        {
            Id = id, Family = Families.CompetitorBenchmarks, Unit = unit, Direction = direction, Kind = IndicatorKind.External, Description = description,
            RatioScale = !id.StartsWith("bench.gap.", StringComparison.Ordinal),
        };
    }

    public const string DerivedPrefix = "derived.";

    /// <summary>The form of a derived indicator's id: <c>derived.</c> and 1–64 of A–Z, a–z, 0–9, '-', '_' and '.', starting with a letter or digit and not ending in '.'.</summary>
    public static bool IsDerivedId(string? id)
    {
        if (id is null || !id.StartsWith(DerivedPrefix, StringComparison.Ordinal)) return false;
        var name = id.AsSpan(DerivedPrefix.Length);
        if (name.Length is 0 or > 64 || !char.IsAsciiLetterOrDigit(name[0]) || name[^1] == '.') return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        }
        return true;
    }

    private static IndicatorValue SscRevenueShare(ScopeFigures f) =>
        f.Customers.Customers == 0 || f.Aggregate.Revenue == 0
            ? IndicatorValue.Null(f.Aggregate.Orders)
            : new IndicatorValue((double)(100m * f.Customers.TopFifthRevenue / f.Aggregate.Revenue), f.Aggregate.Orders);

    private static long Sum(long[] histogram, int from, int to)
    {
        long s = 0;
        for (var i = from; i <= to; i++) s += histogram[i];
        return s;
    }

    private static long WeightedSum(long[] histogram)
    {
        long s = 0;
        for (var i = 0; i < histogram.Length; i++) s += i * histogram[i];
        return s;
    }

    private static IndicatorDefinition Base(string id, string family, string unit, Direction direction, IndicatorKind kind, string description,
        Func<ScopeFigures, IndicatorValue> compute, bool additive = false, bool ratioScale = true) =>
        new() { Id = id, Family = family, Unit = unit, Direction = direction, Kind = kind, Description = description, Compute = compute, Additive = additive, RatioScale = ratioScale };

    private static IndicatorDefinition Derived(string id, string family, string unit, Direction direction, IndicatorKind kind, string description, bool pattern = false) =>
        new() { Id = id, Family = family, Unit = unit, Direction = direction, Kind = kind, Description = description, IsPattern = pattern };
}
