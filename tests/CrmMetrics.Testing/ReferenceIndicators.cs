using System.Globalization;
using System.Text.Json.Nodes;

namespace CrmMetrics.Testing;

/// <summary>
/// An independent, deliberately naive implementation of the contract's base indicators
/// (../shared/contract/indicators.md) over raw JSON events, for UTC calendar months — the stand-in
/// for the external checks. It shares no code with the product: it filters lists and counts.
/// </summary>
public sealed class ReferenceIndicators
{
    private sealed record Ev(string Id, string Type, DateTimeOffset Time, string? Customer, string? Staff, string? Channel, JsonObject Data);

    private readonly List<Ev> _events;
    private readonly Dictionary<string, (string Segment, string Region)> _dimensions = new();
    private readonly double _defaultSla;

    public ReferenceIndicators(IEnumerable<JsonObject> events, double defaultSlaHours = 48)
    {
        _defaultSla = defaultSlaHours;
        _events = events
            .Select(e => new Ev(e["id"]!.GetValue<string>(), e["type"]!.GetValue<string>(), DateTimeOffset.Parse(e["time"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                e["customerId"]?.GetValue<string>(), e["staffId"]?.GetValue<string>(), e["channel"]?.GetValue<string>(), e["data"]?.AsObject() ?? []))
            .DistinctBy(e => e.Id)
            .ToList();
        foreach (var customer in _events.Where(e => e.Customer is not null).Select(e => e.Customer!).Distinct())
        {
            var first = Lifecycle(customer).FirstOrDefault(e => e.Type == "customer.acquired");
            _dimensions[customer] = (first?.Data["segment"]?.GetValue<string>() ?? "unknown", first?.Data["region"]?.GetValue<string>() ?? "unknown");
        }
    }

    /// <summary>Every (indicator, scope) → value for the month starting at <paramref name="monthStart"/> (UTC).</summary>
    public Dictionary<(string Indicator, string Scope), double?> Month(int year, int month)
    {
        var start = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero);
        var end = start.AddMonths(1);
        bool In(DateTimeOffset t) => t >= start && t < end;
        var result = new Dictionary<(string, string), double?>();

        var scopes = new HashSet<string> { "org" };
        foreach (var e in _events.Where(e => In(e.Time) && e.Customer is not null))
        {
            if (e.Channel is not null) scopes.Add("channel:" + e.Channel);
            if (e.Staff is not null) scopes.Add("staff:" + e.Staff);
            scopes.Add("segment:" + _dimensions[e.Customer!].Segment);
            scopes.Add("region:" + _dimensions[e.Customer!].Region);
        }

        // Lifecycle transitions per customer.
        var transitions = _dimensions.Keys.SelectMany(c => Transitions(c).Select(t => (Customer: c, t.Event, t.Effect))).ToList();

        foreach (var scope in scopes)
        {
            bool InScope(Ev e, string? channel = null, string? staff = null, string? customer = null)
            {
                var kind = scope.Split(':')[0];
                var value = scope.Contains(':') ? scope[(scope.IndexOf(':') + 1)..] : null;
                customer ??= e.Customer;
                return kind switch
                {
                    "org" => true,
                    "channel" => (channel ?? e.Channel) == value,
                    "staff" => (staff ?? e.Staff) == value,
                    "segment" => customer is not null && _dimensions.TryGetValue(customer, out var d) && d.Segment == value,
                    "region" => customer is not null && _dimensions.TryGetValue(customer, out var r) && r.Region == value,
                    _ => false,
                };
            }
            var facts = _events.Where(e => In(e.Time) && e.Customer is not null && InScope(e)).ToList();

            int[] Scores(string metric) => facts.Where(e => e.Type == "survey.response" && e.Data["metric"]!.GetValue<string>() == metric).Select(e => int.Parse(e.Data["score"]!.ToJsonString(), CultureInfo.InvariantCulture)).ToArray();
            var nps = Scores("nps");
            var csat = Scores("csat");
            var ces = Scores("ces");
            result[("cx.nps", scope)] = nps.Length == 0 ? null : 100.0 * (nps.Count(s => s >= 9) - nps.Count(s => s <= 6)) / nps.Length;
            result[("cx.csat", scope)] = csat.Length == 0 ? null : 100.0 * csat.Count(s => s >= 4) / csat.Length;
            result[("cx.ces", scope)] = ces.Length == 0 ? null : ces.Average();

            var complaints = facts.Count(e => e.Type == "complaint.opened");
            result[("cx.complaints", scope)] = complaints;

            // Complaints resolved in the month: the case's earliest resolve in the month, with an open.
            var resolutions = new List<(double Hours, bool WithinSla)>();
            foreach (var group in _events.Where(e => e.Type is "complaint.opened" or "complaint.resolved").GroupBy(e => e.Data["caseId"]!.GetValue<string>()))
            {
                var opened = group.Where(e => e.Type == "complaint.opened").OrderBy(e => e.Time).ThenBy(e => e.Id, StringComparer.Ordinal).FirstOrDefault();
                var resolved = group.Where(e => e.Type == "complaint.resolved").OrderBy(e => e.Time).ThenBy(e => e.Id, StringComparer.Ordinal).FirstOrDefault();
                if (opened is null || resolved is null || !In(resolved.Time)) continue;
                if (!InScope(resolved, resolved.Channel ?? opened.Channel, resolved.Staff ?? opened.Staff, resolved.Customer ?? opened.Customer)) continue;
                var hours = (resolved.Time - opened.Time).TotalHours;
                var sla = (opened.Data["slaHours"] is { } slaNode ? double.Parse(slaNode.ToJsonString(), CultureInfo.InvariantCulture) : (double?)null) ?? _defaultSla;
                resolutions.Add((hours, hours <= sla));
            }
            var sorted = resolutions.Select(r => r.Hours).Order().ToArray();
            result[("cx.resolution-hours-p50", scope)] = sorted.Length == 0 ? null : sorted[(int)Math.Ceiling(0.5m * sorted.Length) - 1];
            result[("cx.resolution-hours-p90", scope)] = sorted.Length == 0 ? null : sorted[(int)Math.Ceiling(0.9m * sorted.Length) - 1];
            result[("cx.sla-compliance", scope)] = resolutions.Count == 0 ? null : 100.0 * resolutions.Count(r => r.WithinSla) / resolutions.Count;

            var interactions = facts.Where(e => e.Type == "interaction").ToList();
            result[("cx.interactions", scope)] = interactions.Count;
            var handled = interactions.Where(e => e.Data["handleSeconds"] is not null).Select(e => double.Parse(e.Data["handleSeconds"]!.ToJsonString(), CultureInfo.InvariantCulture)).ToList();
            result[("cx.avg-handle-seconds", scope)] = handled.Count == 0 ? null : handled.Sum() / handled.Count;

            var flagged = facts.Where(e => e.Type == "interaction" && e.Data["direction"]!.GetValue<string>() == "inbound" && e.Data["firstContactResolution"] is not null).ToList();
            result[("cx.fcr", scope)] = flagged.Count == 0 ? null : 100.0 * flagged.Count(e => e.Data["firstContactResolution"]!.GetValue<bool>()) / flagged.Count;

            var orders = facts.Where(e => e.Type == "order").ToList();
            var revenue = orders.Sum(e => Dec(e.Data["amount"]!));
            result[("com.revenue", scope)] = (double)revenue;
            result[("com.orders", scope)] = orders.Count;
            var perCustomer = orders.GroupBy(e => e.Customer!).Select(g => g.Sum(e => Dec(e.Data["amount"]!))).OrderDescending().ToList();
            result[("com.arpc", scope)] = perCustomer.Count == 0 ? null : (double)(revenue / perCustomer.Count);
            var top = (int)Math.Ceiling(0.2m * perCustomer.Count);
            result[("com.ssc-revenue-share", scope)] = perCustomer.Count == 0 || revenue == 0 ? null : (double)(100m * perCustomer.Take(top).Sum() / revenue);

            var deals = facts.Where(e => e.Type == "deal.closed").ToList();
            var won = deals.Where(e => e.Data["outcome"]!.GetValue<string>() == "won").ToList();
            result[("com.deal-win-rate", scope)] = deals.Count == 0 ? null : 100.0 * won.Count / deals.Count;
            result[("com.avg-deal-size", scope)] = won.Count == 0 ? null : (double)won.Average(e => Dec(e.Data["amount"]!));
            result[("com.deals-won", scope)] = won.Count;
            result[("com.won-deal-revenue", scope)] = (double)won.Sum(e => Dec(e.Data["amount"]!));

            var inScope = transitions.Where(t => InScope(t.Event)).ToList();
            var newCustomers = inScope.Count(t => In(t.Event.Time) && t.Effect == "new");
            var winBacks = inScope.Count(t => In(t.Event.Time) && t.Effect == "winback");
            result[("com.new-customers", scope)] = newCustomers;
            result[("com.win-backs", scope)] = winBacks;

            var kindOfScope = scope.Split(':')[0];
            if (kindOfScope is "org" or "segment" or "region")
            {
                // Customer state from all history: in scope by the customer's segment or region.
                long Active(DateTimeOffset at) => transitions.Where(t => t.Event.Time < at && InScope(t.Event, customer: t.Customer))
                    .Sum(t => t.Effect == "churn" ? -1 : t.Effect is "new" or "winback" ? 1 : 0);
                var s = Active(start);
                var e = Active(end);
                result[("com.active-customers", scope)] = e;
                // Customers, not moves (indicators.md: "customers churned in P", "N customers who became active in P").
                var churnedCustomers = inScope.Where(t => In(t.Event.Time) && t.Effect == "churn").Select(t => t.Event.Customer).Distinct().Count();
                var activatedCustomers = inScope.Where(t => In(t.Event.Time) && t.Effect is "new" or "winback").Select(t => t.Event.Customer).Distinct().Count();
                result[("cx.churn-rate", scope)] = s == 0 ? null : 100.0 * churnedCustomers / s;
                result[("cx.retention-rate", scope)] = s == 0 ? null : 100.0 * (e - activatedCustomers) / s;
                result[("cx.complaint-rate", scope)] = e == 0 ? null : 1000.0 * complaints / e;
            }
            else
            {
                result[("com.active-customers", scope)] = null;
                result[("cx.churn-rate", scope)] = null;
                result[("cx.retention-rate", scope)] = null;
                result[("cx.complaint-rate", scope)] = null;
            }
        }
        return result;
    }

    /// <summary>A goal's attainment in percent (contract: goal attainment): 100·a/t, or 100·(2 − a/t) floored at 0 when lower is better; null without an actual.</summary>
    public static double? Attainment(double? actual, double target, bool lowerIsBetter) =>
        actual is not { } a || target == 0 ? null : lowerIsBetter ? Math.Max(0, 100 * (2 - a / target)) : 100 * a / target;

    /// <summary>
    /// A composite goal's attainment (contract: composite goals), computed the long way: the children
    /// with an attainment, their weights rescaled to sum to 100, each attainment capped at
    /// <paramref name="maxContribution"/>; null when no child has one.
    /// </summary>
    public static double? Composite(IEnumerable<(double Weight, double? Attainment)> children, double maxContribution = 150)
    {
        double weights = 0, sum = 0;
        foreach (var (weight, attainment) in children)
        {
            if (attainment is not { } a) continue;
            weights += weight;
            sum += weight * (a < maxContribution ? a : maxContribution);
        }
        return weights == 0 ? null : sum / weights;
    }

    private static decimal Dec(JsonNode node) => decimal.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private IEnumerable<Ev> Lifecycle(string customer) => _events
        .Where(e => e.Customer == customer && e.Type is "customer.acquired" or "customer.churned" or "customer.reactivated")
        .OrderBy(e => e.Time)
        .ThenBy(e => e.Type switch { "customer.acquired" => 0, "customer.reactivated" => 1, _ => 2 })
        .ThenBy(e => e.Id, StringComparer.Ordinal);

    private IEnumerable<(Ev Event, string Effect)> Transitions(string customer)
    {
        var state = "none";
        foreach (var e in Lifecycle(customer))
        {
            var effect = "none";
            if (e.Type == "customer.churned")
            {
                if (state == "active") effect = "churn";
                state = "churned";
            }
            else if (state != "active")
            {
                effect = e.Type == "customer.acquired" && state == "none" ? "new" : "winback";
                state = "active";
            }
            yield return (e, effect);
        }
    }
}
