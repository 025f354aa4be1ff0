using System.Net;
using System.Net.Http.Headers;
using CrmMetrics.Dashboard.Tests.Support;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;

namespace CrmMetrics.Dashboard.Tests;

/// <summary>How the app serves the page, its files and the reporting context, over plain HTTP.</summary>
[Collection(DashboardCollection.Name)]
public class ServingTests(DashboardApp app)
{
    [Fact]
    public async Task The_links_the_demo_prints_read_with_the_reader_key_and_only_the_runs_need_the_admin_key()
    {
        // Found by probing: every read link carried the admin key although the session has a reader key.
        var links = app.Computation.Links(app.BaseAddress.ToString().TrimEnd('/'), TestKeys.Reader, TestKeys.Admin).Select(l => l.Split("   ")[0]).ToList();
        Assert.True(links.Count >= 10, string.Join('\n', links));
        foreach (var link in links)
        {
            var isRun = link.Contains("/api/runs", StringComparison.Ordinal);
            Assert.EndsWith("code=" + (isRun ? TestKeys.Admin : TestKeys.Reader), link);
            var response = await app.Client.GetAsync(link);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{link}: {(int)response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/dashboard")]
    [InlineData("/dashboard?lang=fa&grain=month&period=2026-10")]
    public async Task The_page_is_public_at_the_root_and_at_dashboard_and_allows_scripts_from_the_app_only(string path)
    {
        var response = await app.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("/dashboard/assets/js/main.js", html, StringComparison.Ordinal);
        Assert.Contains("/dashboard/assets/vendor/chart.umd.min.js", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chart_library_is_served_by_the_app_with_an_etag_a_304_and_gzip_when_asked()
    {
        var first = await app.Client.GetAsync("/dashboard/assets/vendor/chart.umd.min.js");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/javascript", first.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Chart.js v4.6.1", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var etag = first.Headers.ETag!.Tag;

        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/assets/vendor/chart.umd.min.js");
        again.Headers.TryAddWithoutValidation("If-None-Match", etag);
        Assert.Equal(HttpStatusCode.NotModified, (await app.Client.SendAsync(again)).StatusCode);

        using var zipped = new HttpRequestMessage(HttpMethod.Get, "/dashboard/assets/vendor/chart.umd.min.js");
        zipped.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        var compressed = await app.Client.SendAsync(zipped);
        Assert.Equal("gzip", compressed.Content.Headers.ContentEncoding.Single());
        Assert.True((await compressed.Content.ReadAsByteArrayAsync()).Length < (await first.Content.ReadAsByteArrayAsync()).Length / 2);

        var font = await app.Client.GetAsync("/dashboard/assets/vendor/vazirmatn-arabic-400.woff2");
        Assert.Equal("font/woff2", font.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/assets/vendor/chart.umd.min.js")]
    public async Task A_head_request_answers_as_the_get_would_without_the_body(string path)
    {
        var get = await app.Client.GetAsync(path);
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        var head = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/dashboard/assets/nothing.js")]
    [InlineData("/dashboard/assets/%2e%2e/%2e%2e/host.json")]
    [InlineData("/dashboard/assets/..%2fCrmMetrics.Functions.dll")]
    public async Task Anything_but_the_dashboards_own_files_is_a_404_problem(string path)
    {
        var response = await app.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_reporting_context_names_the_periods_in_both_languages_and_opens_the_latest_computed_month()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/api/reporting-context")).StatusCode);
        var response = await app.SendAsync(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var context = await AppFixture.JsonAsync(response);
        Assert.Equal("gregorian", context.GetProperty("calendar").GetString());
        Assert.Equal("EUR", context.GetProperty("currency").GetString());
        Assert.Equal("month", context.GetProperty("defaultGrain").GetString());

        var month = context.GetProperty("grains").EnumerateArray().Single(g => g.GetProperty("grain").GetString() == "month");
        Assert.Equal(DashboardApp.Month, month.GetProperty("default").GetString());
        var october = month.GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == DashboardApp.Month);
        Assert.Equal("October 2026", october.GetProperty("label").GetProperty("en").GetString());
        Assert.Equal("اکتبر ۲۰۲۶", october.GetProperty("label").GetProperty("fa").GetString());
        Assert.True(october.GetProperty("computed").GetBoolean());
        Assert.True(october.GetProperty("closed").GetBoolean());
        // The demo's runs left nothing waiting: no computed month is out of date.
        Assert.DoesNotContain(month.GetProperty("periods").EnumerateArray(), p => p.GetProperty("computed").GetBoolean() && p.GetProperty("stale").GetBoolean());
        // The periods run without gaps up to the current one, so the page finds any period's predecessor and its trend window.
        var keys = month.GetProperty("periods").EnumerateArray().Select(p => p.GetProperty("key").GetString()!).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal(month.GetProperty("current").GetString(), keys[^1]);
        // The demo computes from the first month of CRM activity (May 2026), not the back-dated acquisitions before it.
        Assert.Contains("2026-05", keys);
        Assert.True(month.GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("key").GetString() == "2026-05").GetProperty("computed").GetBoolean());
        Assert.DoesNotContain(month.GetProperty("periods").EnumerateArray(), p => p.GetProperty("key").GetString() == "2025-05" && p.GetProperty("computed").GetBoolean());

        var scopes = context.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.Equal("org", scopes[0]);
        Assert.Contains("staff:S-01", scopes);
        Assert.Contains(scopes, s => s!.StartsWith("channel:", StringComparison.Ordinal));
        var revenue = context.GetProperty("indicators").EnumerateArray().Single(i => i.GetProperty("id").GetString() == "com.revenue");
        Assert.Equal("Revenue", revenue.GetProperty("name").GetProperty("en").GetString());
        Assert.Equal("درآمد", revenue.GetProperty("name").GetProperty("fa").GetString());

        using var again = app.Request(HttpMethod.Get, "/api/reporting-context", TestKeys.Reader);
        again.Headers.TryAddWithoutValidation("If-None-Match", response.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NotModified, (await app.Client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task Alerts_carry_a_link_to_the_dashboard_at_their_figure()
    {
        var alerts = (await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/api/alerts?pageSize=100", TestKeys.Reader))).GetProperty("items").EnumerateArray().ToList();
        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            var data = alert.GetProperty("data");
            var scope = data.GetProperty("scope").GetString()!;
            // A composite goal's alert opens the period at the organisation, where the goals panel shows it.
            var expected = $"/dashboard?grain={data.GetProperty("grain").GetString()}&period={data.GetProperty("period").GetString()}" +
                           (scope.StartsWith("goal:", StringComparison.Ordinal)
                               ? "&scope=org"
                               : $"&scope={Uri.EscapeDataString(scope)}&indicator={data.GetProperty("indicator").GetString()}");
            Assert.Equal(expected, data.GetProperty("links").GetProperty("dashboard").GetString());
            Assert.True(data.GetProperty("links").TryGetProperty("snapshot", out _));
        }
    }
}
