using System.Net;
using System.Net.Http.Json;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Functions.Tests.Security;

public class KeyTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static JsonContent OneEvent() => JsonContent.Create(new[] { new { id = "k-1", type = "customer.acquired", time = "2026-10-05T09:00:00Z", customerId = "C-9" } });

    [Fact]
    public async Task Ingest_needs_a_writer_or_admin_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.SendAsync(HttpMethod.Post, "/api/events", null, OneEvent())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.SendAsync(HttpMethod.Post, "/api/events", "not-a-key", OneEvent())).StatusCode);
        var forbidden = await app.SendAsync(HttpMethod.Post, "/api/events", TestKeys.Reader, OneEvent());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Accepted, (await app.SendAsync(HttpMethod.Post, "/api/events", TestKeys.Writer, OneEvent())).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await app.SendAsync(HttpMethod.Post, "/api/events", TestKeys.Admin, OneEvent())).StatusCode);
    }

    [Fact]
    public async Task Health_needs_no_key_and_answers_a_head_request_as_its_get()
    {
        // Found by probing: HEAD /api/health was a 405, so a health probe that sends HEAD failed.
        var head = await app.SendAsync(HttpMethod.Head, "/api/health", null);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, (await app.SendAsync(HttpMethod.Get, "/api/health", null)).StatusCode);
    }

    [Theory]
    // Found by probing: every read route but health and the dashboard answered HEAD with a 405 (RFC 9110: HEAD is GET without the content).
    [InlineData("/api/indicators")]
    [InlineData("/api/indicators/com.revenue")]
    [InlineData("/api/snapshots?grain=month&period=2026-03")]
    [InlineData("/api/alerts")]
    [InlineData("/api/goals")]
    [InlineData("/api/benchmarks?period=2026-03")]
    public async Task A_read_route_answers_head_as_its_get_without_the_content(string path)
    {
        var get = await app.SendAsync(HttpMethod.Get, path, TestKeys.Reader);
        var head = await app.SendAsync(HttpMethod.Head, path, TestKeys.Reader);

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        // HEAD needs the role GET needs.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.SendAsync(HttpMethod.Head, path, null)).StatusCode);
    }

    [Fact]
    public async Task A_key_or_header_beyond_ascii_is_an_unknown_key_not_a_gateway_error()
    {
        // Found by probing: any header value beyond ASCII gave a 502 after 2 s, even on /api/health.
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { BaseAddress = app.BaseAddress };
        var keyed = new HttpRequestMessage(HttpMethod.Get, "/api/indicators");
        keyed.Headers.TryAddWithoutValidation("x-api-key", "ключ");
        var unauthorized = await client.SendAsync(keyed);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("application/problem+json", unauthorized.Content.Headers.ContentType!.MediaType);
        var health = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        health.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (Ünicode)");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(health)).StatusCode);
    }

    [Fact]
    public async Task A_request_sent_to_the_workers_own_port_is_told_where_requests_go()
    {
        // Found by probing: the worker's loopback port answered a direct request with an empty 500.
        var worker = await app.Host.Workers.WaitReadyAsync(TimeSpan.FromSeconds(60), default);
        using var direct = new HttpClient { BaseAddress = worker.HttpUri! };
        var response = await direct.GetAsync("/api/health");
        Assert.Equal((HttpStatusCode)421, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("Functions host", (await AppFixture.JsonAsync(response)).GetProperty("detail").GetString());
        // Through the host, the same route is served.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health")).StatusCode);
    }

    [Fact]
    public async Task The_key_may_travel_as_the_code_query_parameter()
    {
        var response = await app.Client.PostAsync($"/api/events?code={TestKeys.Writer}", OneEvent());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // Given twice it is refused, as two x-api-key headers are: which one was meant is not guessed.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.PostAsync($"/api/events?code={TestKeys.Reader}&code={TestKeys.Writer}", OneEvent())).StatusCode);
        var twice = await app.Client.PostAsync($"/api/events?code={TestKeys.Writer}&code={TestKeys.Writer}", OneEvent());
        Assert.Equal(HttpStatusCode.Unauthorized, twice.StatusCode);
        // Found by probing: this said "The API key is not valid", though it was.
        Assert.Contains("more than once", (await AppFixture.JsonAsync(twice)).GetProperty("detail").GetString());

        // Found by probing: different keys in the header and the query were not refused; the header's won silently.
        var both = app.Request(HttpMethod.Post, $"/api/events?code=not-a-key", TestKeys.Writer, OneEvent());
        var refused = await app.Client.SendAsync(both);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("two different keys", (await AppFixture.JsonAsync(refused)).GetProperty("detail").GetString());
        // The same key in both places is one key.
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client.SendAsync(app.Request(HttpMethod.Post, $"/api/events?code={TestKeys.Writer}", TestKeys.Writer, OneEvent()))).StatusCode);
        // Found by a contract probe: an empty header beside the key in the query was refused as a key given twice.
        var emptyHeader = new HttpRequestMessage(HttpMethod.Post, $"/api/events?code={TestKeys.Writer}") { Content = OneEvent() };
        Assert.True(emptyHeader.Headers.TryAddWithoutValidation("x-api-key", ""));
        var withEmptyHeader = await app.Client.SendAsync(emptyHeader);
        Assert.True(withEmptyHeader.StatusCode == HttpStatusCode.Accepted, await withEmptyHeader.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_needs_no_key_and_reports_storage()
    {
        var response = await app.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await AppFixture.JsonAsync(response);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.All(body.GetProperty("services").EnumerateArray(), s => Assert.True(s.GetProperty("reachable").GetBoolean()));
    }

    [Fact]
    public async Task Unknown_routes_and_methods_are_problem_details()
    {
        var missing = await app.Client.GetAsync("/api/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        var wrongMethod = await app.SendAsync(HttpMethod.Delete, "/api/events", TestKeys.Admin);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType!.MediaType);
    }
}
