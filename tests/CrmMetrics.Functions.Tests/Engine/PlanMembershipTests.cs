using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Domain.Incentives;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Samples;
using CrmMetrics.Storage.Settings;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Engine;

/// <summary>
/// A staff member belongs to one incentive plan of a grain: the API keeps that under concurrent
/// writes, and a period is finalised even when plans stored otherwise break it (found by probing:
/// four plans written at once all took the same staff member, and the period then failed for good).
/// </summary>
public class PlanMembershipTests(PlanMembershipTests.Fixture app) : IClassFixture<PlanMembershipTests.Fixture>
{
    public sealed class Fixture : AppFixture
    {
        public List<JsonObject> Events { get; } = SyntheticCrm.Generate(new SyntheticCrmOptions
        {
            From = new DateOnly(2026, 7, 1), To = new DateOnly(2026, 7, 31), Customers = 40, Seed = 27,
        }).ToList();

        protected override Task AfterStartAsync() => ApiDriver.IngestAsync(this, Events);
    }

    private static object Plan(string grain, params string[] staff) => new
    {
        name = "Race", grain, participants = staff.Select(s => new { staffId = s, quota = 1000m }).ToArray(),
        tiers = new object[] { new { from = 0, rate = 0.1m } },
    };

    [Fact]
    public async Task Plans_written_at_once_take_a_staff_member_into_one_of_them_only()
    {
        var responses = await Task.WhenAll(Enumerable.Range(1, 4).Select(i =>
            app.SendAsync(HttpMethod.Put, $"/api/incentive-plans/race{i}", TestKeys.Admin, JsonContent.Create(Plan("quarter", "S-50")))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await AppFixture.JsonAsync(refused)).GetProperty("errors").TryGetProperty("participants[0].staffId", out _));
        }
        var plans = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/incentive-plans", TestKeys.Reader));
        Assert.Single(plans.EnumerateArray(), p => p.GetProperty("participants").EnumerateArray().Any(x => x.GetProperty("staffId").GetString() == "S-50"));
    }

    [Fact]
    public async Task A_staff_member_in_two_plans_of_a_grain_is_paid_from_the_first_and_the_period_is_finalised()
    {
        var put = await app.SendAsync(HttpMethod.Put, "/api/incentive-plans/a-first", TestKeys.Admin, JsonContent.Create(Plan("month", "S-01", "S-02")));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        // As plans written at once by an earlier version could be stored: a second plan of the grain with S-01 in it.
        var store = new IncentivePlanStore(app.Storage);
        var first = (await store.GetAsync("a-first", default))!;
        var second = first with { PlanId = "b-second", Participants = [new Participant("S-01", 10m)] };
        await store.PutAsync("b-second", second, new ChangeActor("test", "admin"), default);

        await ApiDriver.RunAsync(app, new { grain = "month", period = "2026-07" });

        var card = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/staff/S-01/scorecard?period=2026-07", TestKeys.Reader));
        Assert.Equal("a-first", card.GetProperty("statement").GetProperty("planId").GetString());
        Assert.Equal(1000m, card.GetProperty("statement").GetProperty("quota").GetDecimal());
        Assert.True(app.Logs.Contains("Staff member S-01 is in incentive plans a-first and b-second"), app.Logs.Tail(30));
    }

    [Fact]
    public async Task Staff_are_ranked_across_the_plans_of_the_grain_and_each_row_names_its_plans_version()
    {
        // Found by probing: ranks were counted within each plan, so each plan's best was 1st, and OData served them.
        Assert.Equal(HttpStatusCode.Created, (await app.SendAsync(HttpMethod.Put, "/api/incentive-plans/wk-a", TestKeys.Admin, JsonContent.Create(Plan("week", "S-01", "S-02")))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.SendAsync(HttpMethod.Put, "/api/incentive-plans/wk-b", TestKeys.Admin, JsonContent.Create(Plan("week", "S-03")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Put, "/api/incentive-plans/wk-b", TestKeys.Admin, JsonContent.Create(Plan("week", "S-03", "S-04")))).StatusCode);
        await ApiDriver.RunAsync(app, new { grain = "week", period = "2026-W29" });

        var rows = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/snapshots?grain=week&period=2026-W29&indicator=staff.incentive-payout", TestKeys.Reader)))
            .GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["staff:S-01", "staff:S-02", "staff:S-03", "staff:S-04"], rows.Select(r => r.GetProperty("scope").GetString()).Order());
        var payouts = rows.ToDictionary(r => r.GetProperty("scope").GetString()!, r => r.GetProperty("value").GetDouble());
        Assert.True(payouts.Values.Distinct().Count() > 1, string.Join(", ", payouts));
        foreach (var row in rows)
        {
            var details = row.GetProperty("details");
            var payout = row.GetProperty("value").GetDouble();
            Assert.Equal(1 + payouts.Values.Count(other => other > payout), details.GetProperty("rankByPayout").GetInt32());
            Assert.Equal(4, details.GetProperty("participants").GetInt32());
            Assert.Equal(details.GetProperty("planId").GetString() == "wk-a" ? 1 : 2, details.GetProperty("planVersion").GetInt32());
        }
    }
}
