using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>Drives the public API the way a client does: ingest, start runs, wait for them, read every snapshot page.</summary>
public static class ApiDriver
{
    public static async Task IngestAsync(AppFixture app, IEnumerable<JsonObject> events, int chunk = 1000)
    {
        foreach (var part in events.Chunk(chunk))
        {
            var response = await app.SendAsync(HttpMethod.Post, "/api/events", TestKeys.Writer, new StringContent(new JsonArray(part.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await AppFixture.JsonAsync(response);
            Assert.Equal(0, body.GetProperty("rejected").GetArrayLength());
        }
    }

    public static async Task<JsonElement> RunAsync(AppFixture app, object request, TimeSpan? deadline = null)
    {
        var start = await app.SendAsync(HttpMethod.Post, "/api/runs", TestKeys.Admin, JsonContent.Create(request));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var runId = (await AppFixture.JsonAsync(start)).GetProperty("runId").GetString()!;
        return await Eventually.WaitAsync(async () => await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin)),
            run => run.GetProperty("state").GetString() is "succeeded" or "failed", deadline ?? TimeSpan.FromMinutes(3), $"run {runId} to finish") is var done
            && done.GetProperty("state").GetString() == "succeeded" ? done : throw new Xunit.Sdk.XunitException($"run failed: {done}");
    }

    /// <summary>Every row of GET /api/snapshots for the query, following continuation tokens.</summary>
    public static async Task<List<JsonElement>> SnapshotsAsync(AppFixture app, string query)
    {
        var rows = new List<JsonElement>();
        string? token = null;
        do
        {
            var url = "/api/snapshots?" + query + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token));
            var response = await app.SendAsync(HttpMethod.Get, url, TestKeys.Reader);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await AppFixture.JsonAsync(response);
            rows.AddRange(page.GetProperty("items").EnumerateArray());
            token = page.GetProperty("continuationToken").ValueKind == JsonValueKind.String ? page.GetProperty("continuationToken").GetString() : null;
        } while (token is not null);
        return rows;
    }

    public static double? Value(JsonElement row) => row.GetProperty("value").ValueKind == JsonValueKind.Number ? row.GetProperty("value").GetDouble() : null;
}
