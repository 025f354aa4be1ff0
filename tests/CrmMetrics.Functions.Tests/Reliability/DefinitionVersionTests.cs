using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Reliability;

/// <summary>
/// Two administrators editing one definition: its version is its ETag, and a change made with
/// If-Match on a version that is no longer current is refused (412) without a trace, instead of
/// silently replacing the other's change.
/// </summary>
public class DefinitionVersionTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static object Goal(decimal target) => new { name = "Revenue", indicator = "com.revenue", grain = "month", target };

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body = null, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = app.Request(method, path, TestKeys.Admin, body is null ? null : JsonContent.Create(body));
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return await app.Client.SendAsync(request);
    }

    private static string? Tag(HttpResponseMessage response) => response.Headers.ETag?.ToString();

    private async Task<List<int>> AuditVersions(string kind, string id) =>
        (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/audit?kind={kind}&id={id}", TestKeys.Admin)))
        .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("version").GetInt32()).ToList();

    [Fact]
    public async Task A_change_made_on_a_version_read_before_another_change_is_refused_and_changes_nothing()
    {
        var created = await Send(HttpMethod.Put, "/api/goals/lost-update", Goal(1000));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("\"1\"", Tag(created));
        Assert.Equal("\"1\"", Tag(await app.SendAsync(HttpMethod.Get, "/api/goals/lost-update", TestKeys.Reader)));

        // Two administrators read version 1; the first changes it.
        var first = await Send(HttpMethod.Put, "/api/goals/lost-update", Goal(2000), ifMatch: "\"1\"");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("\"2\"", Tag(first));
        // The same document again is no change: no new version, no audit entry.
        var same = await Send(HttpMethod.Put, "/api/goals/lost-update", Goal(2000), ifMatch: "\"2\"");
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal("\"2\"", Tag(same));

        // The second, still on version 1, is told so, and the first's change stands.
        var second = await Send(HttpMethod.Put, "/api/goals/lost-update", Goal(3000), ifMatch: "\"1\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        var problem = await AppFixture.JsonAsync(second);
        Assert.Equal(412, problem.GetProperty("status").GetInt32());
        Assert.Contains("at version 2", problem.GetProperty("detail").GetString());
        var stored = await app.SendAsync(HttpMethod.Get, "/api/goals/lost-update", TestKeys.Reader);
        Assert.Equal(2000m, (await AppFixture.JsonAsync(stored)).GetProperty("target").GetDecimal());
        Assert.Equal("\"2\"", Tag(stored));
        Assert.Equal([2, 1], await AuditVersions("goal", "lost-update"));

        // A delete on the old version is refused too; on the current one it goes through.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Send(HttpMethod.Delete, "/api/goals/lost-update", ifMatch: "\"1\"")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/api/goals/lost-update", TestKeys.Reader)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, "/api/goals/lost-update", ifMatch: "\"3\", \"2\"")).StatusCode);
        Assert.Equal([3, 2, 1], await AuditVersions("goal", "lost-update"));
    }

    [Fact]
    public async Task If_none_match_star_creates_only_and_if_match_star_replaces_only()
    {
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Send(HttpMethod.Put, "/api/goals/replace-only", Goal(1000), ifMatch: "*")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.SendAsync(HttpMethod.Get, "/api/goals/replace-only", TestKeys.Reader)).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Put, "/api/goals/create-only", Goal(1000), ifNoneMatch: "*")).StatusCode);
        var again = await Send(HttpMethod.Put, "/api/goals/create-only", Goal(5000), ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.PreconditionFailed, again.StatusCode);
        Assert.Equal(1000m, (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/goals/create-only", TestKeys.Reader))).GetProperty("target").GetDecimal());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/api/goals/create-only", Goal(5000), ifMatch: "*")).StatusCode);
    }

    [Fact]
    public async Task A_weak_tag_never_matches_and_a_header_that_is_no_tag_is_a_400_naming_it()
    {
        Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Put, "/api/goals/weak-tag", Goal(1000))).StatusCode);
        // If-Match compares strongly (RFC 9110 13.1.1).
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Send(HttpMethod.Put, "/api/goals/weak-tag", Goal(2000), ifMatch: "W/\"1\"")).StatusCode);

        var bad = await Send(HttpMethod.Put, "/api/goals/weak-tag", Goal(2000), ifMatch: "1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("double quotes", (await AppFixture.JsonAsync(bad)).GetProperty("errors").GetProperty("If-Match")[0].GetString());
        var badDelete = await Send(HttpMethod.Delete, "/api/goals/weak-tag", ifNoneMatch: "\"1");
        Assert.Equal(HttpStatusCode.BadRequest, badDelete.StatusCode);
        Assert.True((await AppFixture.JsonAsync(badDelete)).GetProperty("errors").TryGetProperty("If-None-Match", out _));
        // Found by probing: an empty If-Match (a script's unset tag variable) went through unconditionally.
        var empty = await Send(HttpMethod.Put, "/api/goals/weak-tag", Goal(2000), ifMatch: "");
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("empty", (await AppFixture.JsonAsync(empty)).GetProperty("errors").GetProperty("If-Match")[0].GetString());
        Assert.Equal(1000m, (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/goals/weak-tag", TestKeys.Reader))).GetProperty("target").GetDecimal());
    }

    public static TheoryData<string, string, string, string> OtherDefinitions => new()
    {
        { "/api/incentive-plans/versioned", "incentive-plan", """{"name":"Sales","grain":"month","participants":[{"staffId":"S-77","quota":1000}],"tiers":[{"from":0,"rate":0.05}]}""",
            """{"name":"Sales","grain":"month","participants":[{"staffId":"S-77","quota":1000}],"tiers":[{"from":0,"rate":0.06}]}""" },
        { "/api/alert-rules/versioned", "alert-rule", """{"kind":"threshold","indicator":"com.revenue","below":10}""", """{"kind":"threshold","indicator":"com.revenue","below":20}""" },
        { "/api/indicators/derived.versioned", "indicator", """{"name":"Revenue twice","expression":"com.revenue * 2","unit":"EUR","direction":"higher"}""",
            """{"name":"Revenue thrice","expression":"com.revenue * 3","unit":"EUR","direction":"higher"}""" },
    };

    [Theory]
    [MemberData(nameof(OtherDefinitions))]
    public async Task Every_kind_of_definition_carries_its_version_as_its_tag(string path, string kind, string body, string changed)
    {
        Task<HttpResponseMessage> Put(string json, string? ifMatch) => Send(HttpMethod.Put, path, JsonDocument.Parse(json).RootElement, ifMatch);
        var created = await Put(body, null);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.Equal("\"1\"", Tag(created));
        Assert.Equal("\"1\"", Tag(await app.SendAsync(HttpMethod.Get, path, TestKeys.Admin)));
        Assert.Equal("\"2\"", Tag(await Put(changed, "\"1\"")));
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Put(body, "\"1\"")).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Send(HttpMethod.Delete, path, ifMatch: "\"1\"")).StatusCode);
        Assert.Equal([2, 1], await AuditVersions(kind, path[(path.LastIndexOf('/') + 1)..]));
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, path, ifMatch: "\"2\"")).StatusCode);
    }

    [Fact]
    public async Task What_a_get_returns_can_be_put_back_unchanged_as_no_new_version()
    {
        // Found by probing: GET → PUT with If-Match was a 400 for goals (children, a composite's target) and alert rules (k, n, m).
        async Task RoundTrip(string path)
        {
            var read = await app.SendAsync(HttpMethod.Get, path, TestKeys.Admin);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            var tag = Tag(read)!;
            var written = await Send(HttpMethod.Put, path, await AppFixture.JsonAsync(read), ifMatch: tag);
            Assert.True(written.StatusCode == HttpStatusCode.OK, $"{path}: {await written.Content.ReadAsStringAsync()}");
            Assert.Equal(tag, Tag(written));
        }
        Assert.True((await Send(HttpMethod.Put, "/api/goals/rt-parent", Goal(1000))).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/goals/rt-child", new { name = "Child", indicator = "com.revenue", grain = "month", target = 500, parentGoalId = "rt-parent" })).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/goals/rt-composite", new { name = "Both", grain = "month", children = new[] { new { goalId = "rt-parent", weight = 60 }, new { goalId = "rt-child", weight = 40 } } })).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/alert-rules/rt-rule", new { kind = "threshold", indicator = "com.revenue", below = 10 })).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/alert-rules/rt-risk", new { kind = "goal-at-risk", goalId = "rt-parent" })).IsSuccessStatusCode);
        // Found by probing later: a benchmark rule read back carried belowPeerMean false beside its condition, a second condition.
        Assert.True((await Send(HttpMethod.Put, "/api/alert-rules/rt-percentile", new { kind = "benchmark", indicator = "cx.nps", percentileBelow = 50 })).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/alert-rules/rt-gap", new { kind = "benchmark", indicator = "cx.nps", gapWidening = 5, competitor = "Acme" })).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/alert-rules/rt-peers", new { kind = "benchmark", indicator = "cx.nps", belowPeerMean = true })).IsSuccessStatusCode);
        // Every member these show must pass the check for misspelt members.
        Assert.True((await Send(HttpMethod.Put, "/api/incentive-plans/rt-plan", JsonDocument.Parse("""{"name":"Sales","grain":"month","measure":{"indicator":"com.orders"},"participants":[{"staffId":"S-66","quota":10}],"tiers":[{"from":0,"to":100,"rate":0.05},{"from":100,"rate":0.08}],"cap":500,"gates":[{"indicator":"cx.csat","min":80,"factor":0.5}]}""").RootElement)).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/indicators/derived.rt-twice", new { name = "Twice", nameFa = "دو برابر", expression = "com.revenue * 2", unit = "currency", direction = "higher", kind = "external", description = "Revenue twice" })).IsSuccessStatusCode);
        foreach (var path in new[]
                 {
                     "/api/goals/rt-parent", "/api/goals/rt-child", "/api/goals/rt-composite", "/api/alert-rules/rt-rule", "/api/alert-rules/rt-risk",
                     "/api/alert-rules/rt-percentile", "/api/alert-rules/rt-gap", "/api/alert-rules/rt-peers", "/api/incentive-plans/rt-plan", "/api/indicators/derived.rt-twice",
                 })
            await RoundTrip(path);

        // The read-only list of roll-up children cannot be used to set them.
        var wrong = await Send(HttpMethod.Put, "/api/goals/rt-parent", new { name = "Revenue", indicator = "com.revenue", grain = "month", target = 1000, children = new[] { "someone-else" } });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("parentGoalId", (await AppFixture.JsonAsync(wrong)).GetProperty("errors").GetProperty("children")[0].GetString());
    }

    [Fact]
    public async Task Numbers_written_another_way_are_the_same_document_and_a_tag_is_compared_as_written()
    {
        static object Plan(string quota) => JsonDocument.Parse($$"""{"name":"Scale","grain":"month","participants":[{"staffId":"S-88","quota":{{quota}}}],"tiers":[{"from":0,"rate":0.05}]}""").RootElement;
        Assert.Equal("\"1\"", Tag(await Send(HttpMethod.Put, "/api/incentive-plans/scale", Plan("2000"))));
        // Found by probing: 2000.0 for 2000 made a new version, so others' If-Match failed.
        Assert.Equal("\"1\"", Tag(await Send(HttpMethod.Put, "/api/incentive-plans/scale", Plan("2000.0"), ifMatch: "\"1\"")));
        // Strong comparison: "01" is not the tag "1".
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await Send(HttpMethod.Put, "/api/incentive-plans/scale", Plan("3000"), ifMatch: "\"01\"")).StatusCode);
    }

    [Fact]
    public async Task A_derived_indicator_cannot_turn_its_direction_under_a_goal_that_names_it()
    {
        // Found by probing: the goal, checked against "higher", could no longer be saved as it stood.
        var higher = new { name = "Twice", expression = "com.revenue * 2", unit = "currency", direction = "higher" };
        Assert.True((await Send(HttpMethod.Put, "/api/indicators/derived.turns", higher)).IsSuccessStatusCode);
        Assert.True((await Send(HttpMethod.Put, "/api/goals/on-turns", new { name = "On it", indicator = "derived.turns", grain = "month", target = 70, stretch = 90 })).IsSuccessStatusCode);
        var turned = await Send(HttpMethod.Put, "/api/indicators/derived.turns", new { name = "Twice", expression = "com.revenue * 2", unit = "currency", direction = "lower" });
        Assert.Equal(HttpStatusCode.Conflict, turned.StatusCode);
        Assert.Contains("goal 'on-turns'", (await AppFixture.JsonAsync(turned)).GetProperty("detail").GetString());
        // Its name may change.
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/api/indicators/derived.turns", new { name = "Doubled", expression = "com.revenue * 2", unit = "currency", direction = "higher" })).StatusCode);
    }
}
