using System.Text.Json.Nodes;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Domain.Snapshots;

namespace CrmMetrics.Domain.Incentives;

/// <summary>How one tier contributed to a payout.</summary>
public sealed record TierLine(decimal From, decimal? To, decimal Rate, decimal Base, decimal Amount);

/// <summary>How one gate affected a payout.</summary>
public sealed record GateLine(string Indicator, decimal Min, double? Value, bool Passed, decimal Factor);

/// <summary>A payout explained to the person paid: measure, tiers, gates, cap.</summary>
public sealed record PayoutStatement(
    string PlanId,
    string StaffId,
    decimal Quota,
    string Measure,
    decimal MeasureValue,
    double? QuotaAttainment,
    IReadOnlyList<TierLine> Tiers,
    decimal Gross,
    IReadOnlyList<GateLine> Gates,
    decimal AfterGates,
    decimal? Cap,
    decimal Payout,
    long FactCount);

/// <summary>
/// Staff incentives (contract: indicators.md): quota attainment = 100 × measure / quota; payout = Σ
/// over tiers of the measure's part inside the tier's band × rate, times every failed gate's factor,
/// then capped. Money stays decimal; nothing is rounded here.
/// </summary>
public static class IncentivePlanCalculator
{
    public static PayoutStatement Statement(IncentivePlan plan, Participant participant, SnapshotRow? measure, Func<string, SnapshotRow?> indicatorOf)
    {
        // A staff member with no facts in the period has a zero measure for sums and counts; other
        // measures without a value have no attainment (and earn nothing).
        var additive = IndicatorCatalog.Find(plan.MeasureIndicator)?.Additive ?? false;
        decimal? known = measure?.Exact ?? (measure?.Value is { } v && Math.Abs(v) < 1e27 ? (decimal)v : null);
        var value = known ?? 0m;
        var quota = participant.Quota;
        double? attainment = known is null && !additive ? null : Attainment(value, quota);
        var lines = new List<TierLine>();
        decimal gross = 0;
        foreach (var tier in plan.Tiers)
        {
            var low = Share(tier.From, quota);
            var high = tier.To is { } to ? Share(to, quota) : (decimal?)null;
            var top = high is { } h ? Math.Min(value, h) : value;
            // Compared first: a negative measure minus a saturated bound would overflow.
            var inBand = top <= low ? 0 : top - low;
            var amount = inBand * tier.Rate;
            lines.Add(new TierLine(tier.From, tier.To, tier.Rate, inBand, amount));
            gross += amount;
        }
        var gates = new List<GateLine>();
        var afterGates = gross;
        foreach (var gate in plan.Gates)
        {
            var gateValue = indicatorOf(gate.Indicator)?.Value;
            var passed = gateValue is { } gv && gv >= (double)gate.Min;
            if (!passed) afterGates *= gate.Factor;
            gates.Add(new GateLine(gate.Indicator, gate.Min, gateValue, passed, gate.Factor));
        }
        var payout = plan.Cap is { } cap ? Math.Min(afterGates, cap) : afterGates;
        return new PayoutStatement(plan.PlanId, participant.StaffId, quota, plan.MeasureIndicator, value, attainment, lines, gross, gates, afterGates, plan.Cap, payout,
            measure?.FactCount ?? 0);
    }

    /// <summary>100 × measure / quota, exactly while a decimal holds it (plans stored before their bounds were checked may not fit).</summary>
    private static double Attainment(decimal value, decimal quota)
    {
        try
        {
            return (double)(100m * value / quota);
        }
        catch (OverflowException)
        {
            return 100 * ((double)value / (double)quota);
        }
    }

    /// <summary>A tier bound in money: <paramref name="percent"/> of the quota; beyond a decimal's range, the largest decimal (a band no measure reaches).</summary>
    private static decimal Share(decimal percent, decimal quota)
    {
        try
        {
            return percent / 100m * quota;
        }
        catch (OverflowException)
        {
            return decimal.MaxValue;
        }
    }

    /// <summary>The rows of a period with one plan (<see cref="Rows(IReadOnlyList{IncentivePlan}, Period, IReadOnlyList{SnapshotRow})"/>).</summary>
    public static IReadOnlyList<SnapshotRow> Rows(IncentivePlan plan, Period period, IReadOnlyList<SnapshotRow> computed) => Rows([plan], period, computed);

    /// <summary>
    /// The rows of every plan of the period's grain: quota attainment and payout per participant, with
    /// statements, ranked across the participants of all of them, since the ranks are the period's
    /// (indicators.md). Ranked within each plan, a person paid nothing in one plan ranked above one paid
    /// more in another (found by probing); <c>participants</c> in the details is how many were ranked.
    /// </summary>
    public static IReadOnlyList<SnapshotRow> Rows(IReadOnlyList<IncentivePlan> plans, Period period, IReadOnlyList<SnapshotRow> computed)
    {
        var byKey = computed.GroupBy(r => (r.Indicator, r.Scope)).ToDictionary(g => g.Key, g => g.Last());
        var statements = plans.Where(plan => plan.Grain == period.Grain).SelectMany(plan => plan.Participants.Select(p =>
        {
            var scope = "staff:" + p.StaffId;
            return Statement(plan, p, byKey.GetValueOrDefault((plan.MeasureIndicator, scope)), indicator => byKey.GetValueOrDefault((indicator, scope)));
        })).ToList();
        var payoutRanks = Ranks(statements.Select(s => (double)s.Payout).ToList());
        var attainmentRanks = Ranks(statements.Select(s => s.QuotaAttainment ?? double.NegativeInfinity).ToList());

        var quotaDefinition = IndicatorCatalog.Find("staff.quota-attainment")!;
        var payoutDefinition = IndicatorCatalog.Find("staff.incentive-payout")!;
        var rows = new List<SnapshotRow>();
        for (var i = 0; i < statements.Count; i++)
        {
            var s = statements[i];
            var scope = "staff:" + s.StaffId;
            var details = Details(s, payoutRanks[i], attainmentRanks[i], statements.Count);
            rows.Add(SnapshotRow.From(quotaDefinition, scope, period, new IndicatorValue(s.QuotaAttainment, s.FactCount), details));
            rows.Add(SnapshotRow.From(payoutDefinition, scope, period, IndicatorValue.Money(s.Payout, s.FactCount), (JsonObject)details.DeepClone()));
        }
        return rows;
    }

    /// <summary>Competition ranks, highest first: 1, 2, 2, 4.</summary>
    public static int[] Ranks(IReadOnlyList<double> values) =>
        values.Select(v => 1 + values.Count(other => other > v)).ToArray();

    private static JsonObject Details(PayoutStatement s, int payoutRank, int attainmentRank, int participants) => new()
    {
        ["planId"] = s.PlanId,
        ["quota"] = s.Quota,
        ["measure"] = s.Measure,
        ["measureValue"] = s.MeasureValue,
        ["quotaAttainment"] = s.QuotaAttainment,
        ["payout"] = s.Payout,
        ["rankByPayout"] = payoutRank,
        ["rankByQuotaAttainment"] = attainmentRank,
        ["participants"] = participants,
        ["statement"] = new JsonObject
        {
            ["tiers"] = new JsonArray(s.Tiers.Select(t => (JsonNode)new JsonObject
            {
                ["from"] = t.From, ["to"] = t.To, ["rate"] = t.Rate, ["base"] = t.Base, ["amount"] = t.Amount,
            }).ToArray()),
            ["gross"] = s.Gross,
            ["gates"] = new JsonArray(s.Gates.Select(g => (JsonNode)new JsonObject
            {
                ["indicator"] = g.Indicator, ["min"] = g.Min, ["value"] = g.Value, ["passed"] = g.Passed, ["factor"] = g.Factor,
            }).ToArray()),
            ["afterGates"] = s.AfterGates,
            ["cap"] = s.Cap,
            ["payout"] = s.Payout,
        },
    };
}
