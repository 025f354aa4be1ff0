using System.Net;
using System.Net.Http.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Changes to definitions made at the same moment cannot together break a rule that each alone is
/// checked against (found by probing: two composite goals each naming the other, two derived
/// indicators each built on the other, a derived indicator built on one deleted at once, an alert
/// rule watching a goal deleted at once). Each scenario runs a few rounds, the requests sent together.
/// </summary>
public class DefinitionRaceTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const int Rounds = 4;

    private Task<HttpResponseMessage> Put(string path, object body) => app.SendAsync(HttpMethod.Put, path, TestKeys.Admin, JsonContent.Create(body));
    private Task<HttpResponseMessage> Delete(string path) => app.SendAsync(HttpMethod.Delete, path, TestKeys.Admin);

    private static async Task<string> Describe(HttpResponseMessage r) => $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";

    private async Task Ok(Task<HttpResponseMessage> sent)
    {
        var response = await sent;
        Assert.True(response.IsSuccessStatusCode, await Describe(response));
    }

    [Fact]
    public async Task Two_composite_goals_made_parts_of_each_other_at_once_do_not_both_stand()
    {
        for (var round = 0; round < Rounds; round++)
        {
            string Id(string name) => $"race{round}-{name}";
            object Leaf() => new { name = "Leaf", indicator = "com.revenue", grain = "month", target = 100 };
            object Composite(string leaf, string other) => new { name = "Composite", grain = "month", children = new object[] { new { goalId = leaf, weight = 50 }, new { goalId = other, weight = 50 } } };
            await Ok(Put($"/api/goals/{Id("l1")}", Leaf()));
            await Ok(Put($"/api/goals/{Id("l2")}", Leaf()));
            await Ok(Put($"/api/goals/{Id("c1")}", new { name = "C1", grain = "month", children = new object[] { new { goalId = Id("l1"), weight = 100 } } }));
            await Ok(Put($"/api/goals/{Id("c2")}", new { name = "C2", grain = "month", children = new object[] { new { goalId = Id("l2"), weight = 100 } } }));

            var both = await Task.WhenAll(Put($"/api/goals/{Id("c1")}", Composite(Id("l1"), Id("c2"))), Put($"/api/goals/{Id("c2")}", Composite(Id("l2"), Id("c1"))));
            var statuses = both.Select(r => r.StatusCode).Order().ToList();
            Assert.True(statuses.SequenceEqual([HttpStatusCode.OK, HttpStatusCode.BadRequest]), $"round {round}: {await Describe(both[0])} / {await Describe(both[1])}");
        }
    }

    [Fact]
    public async Task Two_derived_indicators_built_on_each_other_at_once_do_not_both_stand()
    {
        for (var round = 0; round < Rounds; round++)
        {
            string Id(string name) => $"derived.race{round}-{name}";
            object Over(string operand) => new { name = "Race", expression = operand + " + 1", unit = "count", direction = "higher" };
            await Ok(Put($"/api/indicators/{Id("a")}", Over("com.orders")));
            await Ok(Put($"/api/indicators/{Id("b")}", Over("com.orders")));

            var both = await Task.WhenAll(Put($"/api/indicators/{Id("a")}", Over(Id("b"))), Put($"/api/indicators/{Id("b")}", Over(Id("a"))));
            var statuses = both.Select(r => r.StatusCode).Order().ToList();
            Assert.True(statuses.SequenceEqual([HttpStatusCode.OK, HttpStatusCode.BadRequest]), $"round {round}: {await Describe(both[0])} / {await Describe(both[1])}");
        }
    }

    [Fact]
    public async Task What_is_deleted_while_something_is_built_on_it_leaves_no_dangling_reference()
    {
        for (var round = 0; round < Rounds; round++)
        {
            // A derived indicator built on one being deleted.
            var basis = $"derived.race{round}-basis";
            await Ok(Put($"/api/indicators/{basis}", new { name = "Basis", expression = "com.orders * 2", unit = "count", direction = "higher" }));
            var built = Put($"/api/indicators/derived.race{round}-built", new { name = "Built", expression = basis + " + 1", unit = "count", direction = "higher" });
            var deleted = Delete($"/api/indicators/{basis}");
            var (put, delete) = (await built, await deleted);
            Assert.True(put.IsSuccessStatusCode != delete.IsSuccessStatusCode, $"round {round}: PUT {await Describe(put)} / DELETE {await Describe(delete)}");

            // An alert rule watching a goal being deleted.
            var goal = $"race{round}-watched";
            await Ok(Put($"/api/goals/{goal}", new { name = "Watched", indicator = "com.revenue", grain = "month", target = 100 }));
            var rule = Put($"/api/alert-rules/race{round}-watch", new { kind = "goal-missed", goalId = goal });
            var gone = Delete($"/api/goals/{goal}");
            var (ruleResponse, goneResponse) = (await rule, await gone);
            Assert.True(ruleResponse.IsSuccessStatusCode != goneResponse.IsSuccessStatusCode, $"round {round}: rule {await Describe(ruleResponse)} / goal DELETE {await Describe(goneResponse)}");
        }
    }
}
