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
}
