using System.Globalization;
using System.Text.Json.Nodes;

namespace CrmMetrics.Samples;

/// <summary>How big and how messy a synthetic CRM dataset is.</summary>
public sealed record SyntheticCrmOptions
{
    public DateOnly From { get; init; } = new(2026, 5, 1);
    public DateOnly To { get; init; } = new(2026, 10, 31);
    public int Customers { get; init; } = 900;

    /// <summary>Customers active before <see cref="From"/> (so active counts start above zero).</summary>
    public double ExistingShare { get; init; } = 0.5;

    public double OrdersPerCustomerMonth { get; init; } = 1.2;
    public double InteractionsPerCustomerMonth { get; init; } = 1.5;
    public double SurveysPerCustomerMonth { get; init; } = 0.5;
    public double ComplaintsPerCustomerMonth { get; init; } = 0.08;
    public double DealsPerStaffMonth { get; init; } = 6;
    public double MonthlyChurn { get; init; } = 0.04;
    public double WinBackShare { get; init; } = 0.3;

    /// <summary>Share of facts sent a second time (redeliveries).</summary>
    public double DuplicateShare { get; init; } = 0.01;

    /// <summary>Share of facts that arrive in a later batch than their time (late facts).</summary>
    public double LateShare { get; init; } = 0.02;

    public bool CompetitorObservations { get; init; } = true;
    public int Seed { get; init; } = 20261123;
    public string IdPrefix { get; init; } = "";
}

/// <summary>
/// Generates a realistic CRM history: customers acquired (with segment and region), churning and
/// coming back, ordering, talking to staff through several channels, answering surveys, complaining
/// and being helped, deals won and lost against competitors, and monthly market research.
/// Deterministic for a seed. Facts come in time order except for a share of late and resent ones.
/// </summary>
public static class SyntheticCrm
{
    public static readonly string[] Channels = ["phone", "email", "web", "chat", "social", "mobile", "in-person"];
    public static readonly string[] Segments = ["enterprise", "smb", "consumer"];
    public static readonly string[] Regions = ["north", "south", "east", "west"];
    public static readonly string[] Staff = ["S-01", "S-02", "S-03", "S-04", "S-05", "S-06"];
    public static readonly string[] Competitors = ["Acme", "Globex", "Initech"];

    public static IEnumerable<JsonObject> Generate(SyntheticCrmOptions options)
    {
        var random = new Random(options.Seed);
        var facts = new List<(DateTimeOffset Time, JsonObject Event)>();
        var start = new DateTimeOffset(options.From.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = new DateTimeOffset(options.To.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var span = end - start;
        var months = Math.Max(1.0, span.TotalDays / 30.4);
        var n = 0;
        string Id(string kind) => $"{options.IdPrefix}{kind}-{++n:D7}";
        DateTimeOffset At(DateTimeOffset from, DateTimeOffset to) => from + TimeSpan.FromSeconds(random.NextDouble() * Math.Max(1, (to - from).TotalSeconds));
        T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
        string? MaybeChannel() => random.NextDouble() < 0.9 ? Pick(Channels) : null;
        string? MaybeStaff() => random.NextDouble() < 0.8 ? Pick(Staff) : null;
        int Poisson(double mean)
        {
            var l = Math.Exp(-mean);
            var k = 0;
            var p = 1.0;
            do { k++; p *= random.NextDouble(); } while (p > l);
            return k - 1;
        }
        JsonObject Event(string kind, string type, DateTimeOffset time, string? customer, string? channel, string? staff, JsonObject? data)
        {
            var e = new JsonObject { ["id"] = Id(kind), ["type"] = type, ["time"] = time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) };
            if (customer is not null) e["customerId"] = customer;
            if (staff is not null) e["staffId"] = staff;
            if (channel is not null) e["channel"] = channel;
            if (data is not null) e["data"] = data;
            return e;
        }

        for (var c = 0; c < options.Customers; c++)
        {
            var customer = $"{options.IdPrefix}C-{c + 1:D5}";
            var segment = Pick(Segments);
            var region = Pick(Regions);
            var existing = random.NextDouble() < options.ExistingShare;
            var acquiredAt = existing ? At(start.AddDays(-365), start) : At(start, end);
            var acquisitionData = new JsonObject();
            if (random.NextDouble() < 0.95) acquisitionData["segment"] = segment;
            if (random.NextDouble() < 0.95) acquisitionData["region"] = region;
            facts.Add((acquiredAt, Event("acq", "customer.acquired", acquiredAt, customer, MaybeChannel(), MaybeStaff(), acquisitionData)));

            // Active spells: churn with a monthly hazard, sometimes come back.
            var activeFrom = acquiredAt;
            var active = true;
            var cursor = acquiredAt;
            var spells = new List<(DateTimeOffset From, DateTimeOffset To)>();
            while (cursor < end)
            {
                var next = cursor.AddDays(30.4);
                if (active && random.NextDouble() < options.MonthlyChurn && next > start)
                {
                    var churnAt = At(cursor > start ? cursor : start, next < end ? next : end);
                    facts.Add((churnAt, Event("churn", "customer.churned", churnAt, customer, MaybeChannel(), null, new JsonObject { ["reason"] = Pick(new[] { "price", "service", "moved", "competitor" }) })));
                    spells.Add((activeFrom, churnAt));
                    active = false;
                    cursor = churnAt;
                    if (random.NextDouble() < options.WinBackShare)
                    {
                        var backAt = At(churnAt.AddDays(7), churnAt.AddDays(90));
                        if (backAt < end)
                        {
                            // Half the win-backs come as reactivations, half as a new acquisition (treated as one).
                            facts.Add((backAt, random.NextDouble() < 0.5
                                ? Event("react", "customer.reactivated", backAt, customer, MaybeChannel(), MaybeStaff(), null)
                                : Event("acq", "customer.acquired", backAt, customer, MaybeChannel(), MaybeStaff(), new JsonObject { ["segment"] = Pick(Segments) })));
                            active = true;
                            activeFrom = backAt;
                            cursor = backAt;
                            continue;
                        }
                    }
                    break;
                }
                cursor = next;
            }
            if (active) spells.Add((activeFrom, end));

            foreach (var (from0, to) in spells)
            {
                var from = from0 > start ? from0 : start;
                if (to <= from) continue;
                var spellMonths = (to - from).TotalDays / 30.4;
                var value = segment switch { "enterprise" => 4.0, "smb" => 1.5, _ => 0.6 };
                for (var i = Poisson(options.OrdersPerCustomerMonth * spellMonths * (segment == "consumer" ? 1.5 : 1)); i > 0; i--)
                {
                    var t = At(from, to);
                    var amount = Math.Round((decimal)(Math.Exp(random.NextDouble() * 2.2 + 3.5) * value), 2);
                    facts.Add((t, Event("ord", "order", t, customer, MaybeChannel(), MaybeStaff(), new JsonObject { ["amount"] = amount, ["currency"] = "EUR" })));
                }
                for (var i = Poisson(options.InteractionsPerCustomerMonth * spellMonths); i > 0; i--)
                {
                    var t = At(from, to);
                    var inbound = random.NextDouble() < 0.7;
                    var data = new JsonObject { ["direction"] = inbound ? "inbound" : "outbound", ["handleSeconds"] = Math.Round(random.NextDouble() * 900 + 30, 1) };
                    if (inbound && random.NextDouble() < 0.85) data["firstContactResolution"] = random.NextDouble() < 0.72;
                    facts.Add((t, Event("int", "interaction", t, customer, Pick(Channels), MaybeStaff(), data)));
                }
                for (var i = Poisson(options.SurveysPerCustomerMonth * spellMonths); i > 0; i--)
                {
                    var t = At(from, to);
                    var metric = Pick(new[] { "nps", "csat", "ces" });
                    var score = metric switch
                    {
                        "nps" => Math.Clamp((int)Math.Round(7.4 + 2.2 * Gaussian(random)), 0, 10),
                        "csat" => Math.Clamp((int)Math.Round(3.9 + 0.9 * Gaussian(random)), 1, 5),
                        _ => Math.Clamp((int)Math.Round(5.2 + 1.2 * Gaussian(random)), 1, 7),
                    };
                    facts.Add((t, Event("srv", "survey.response", t, customer, MaybeChannel(), MaybeStaff(), new JsonObject { ["metric"] = metric, ["score"] = score })));
                }
                for (var i = Poisson(options.ComplaintsPerCustomerMonth * spellMonths); i > 0; i--)
                {
                    var t = At(from, to);
                    var caseId = $"{options.IdPrefix}K-{++n:D7}";
                    var severity = Pick(new[] { "low", "medium", "medium", "high", "critical" });
                    var opened = new JsonObject { ["caseId"] = caseId, ["severity"] = severity };
                    if (random.NextDouble() < 0.6) opened["slaHours"] = severity switch { "critical" => 8, "high" => 24, "medium" => 48, _ => 72 };
                    var channel = MaybeChannel();
                    var staff = MaybeStaff();
                    facts.Add((t, Event("cmp", "complaint.opened", t, customer, channel, staff, opened)));
                    if (random.NextDouble() < 0.9)
                    {
                        var resolvedAt = t.AddHours(Math.Exp(random.NextDouble() * 4.2));
                        if (resolvedAt < end) facts.Add((resolvedAt, Event("res", "complaint.resolved", resolvedAt, customer, channel, staff, new JsonObject { ["caseId"] = caseId })));
                    }
                }
            }
        }

        foreach (var staff in Staff)
        {
            for (var i = Poisson(options.DealsPerStaffMonth * months); i > 0; i--)
            {
                var t = At(start, end);
                var won = random.NextDouble() < 0.45;
                var data = new JsonObject { ["dealId"] = $"{options.IdPrefix}D-{++n:D7}", ["outcome"] = won ? "won" : "lost", ["amount"] = Math.Round((decimal)(random.NextDouble() * 40000 + 2000), 2) };
                if (random.NextDouble() < 0.7) data["competitor"] = Pick(Competitors);
                facts.Add((t, Event("deal", "deal.closed", t, $"{options.IdPrefix}C-{random.Next(options.Customers) + 1:D5}", MaybeChannel(), staff, data)));
            }
        }

        if (options.CompetitorObservations)
        {
            for (var month = new DateOnly(options.From.Year, options.From.Month, 1); month <= options.To; month = month.AddMonths(1))
            {
                var key = month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
                var observedAt = new DateTimeOffset(month.AddMonths(1).ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero);
                if (observedAt > end) observedAt = end.AddHours(-1);
                facts.Add((observedAt, Event("mkt", "market.observation", observedAt, null, null, null,
                    new JsonObject { ["indicator"] = "market-size", ["value"] = Math.Round(2_000_000 + random.NextDouble() * 400_000), ["period"] = key })));
                foreach (var competitor in Competitors)
                {
                    foreach (var (indicator, value) in new[] { ("cx.nps", 20 + random.NextDouble() * 30), ("cx.csat", 65 + random.NextDouble() * 25), ("market-share", 8 + random.NextDouble() * 20) })
                    {
                        facts.Add((observedAt, Event("obs", "competitor.observation", observedAt, null, null, null,
                            new JsonObject { ["competitor"] = competitor, ["indicator"] = indicator, ["value"] = Math.Round(value, 1), ["period"] = key })));
                    }
                }
            }
        }

        facts.Sort((a, b) => a.Time.CompareTo(b.Time));
        var output = new List<JsonObject>(facts.Count);
        var late = new List<JsonObject>();
        foreach (var (_, e) in facts)
        {
            if (random.NextDouble() < options.LateShare) late.Add(e);
            else output.Add(e);
            if (random.NextDouble() < options.DuplicateShare) (random.NextDouble() < 0.5 ? late : output).Add((JsonObject)e.DeepClone());
        }
        // Late facts arrive after everything else, out of order.
        output.AddRange(late.OrderBy(_ => random.Next()));
        return output;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
