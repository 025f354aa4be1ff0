using System.Net;
using System.Xml;
using CrmMetrics.Functions.Tests.Support;
using CrmMetrics.Testing;
using Microsoft.OData;
using Microsoft.OData.Edm;
using Microsoft.OData.Edm.Csdl;

namespace CrmMetrics.Functions.Tests.BiAccess;

/// <summary>The OData feed read by Microsoft.OData.Core's message reader with $metadata parsed by the CSDL reader: a client not written here.</summary>
[Collection("bi")]
public class ODataClientTests(BiFixture app)
{
    private sealed class ResponseMessage(HttpResponseMessage response, Stream body) : IODataResponseMessageAsync
    {
        public IEnumerable<KeyValuePair<string, string>> Headers =>
            response.Headers.Concat(response.Content.Headers).Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value)));
        public int StatusCode { get => (int)response.StatusCode; set => throw new NotSupportedException(); }
        public string? GetHeader(string headerName) => Headers.FirstOrDefault(h => string.Equals(h.Key, headerName, StringComparison.OrdinalIgnoreCase)).Value;
        public void SetHeader(string headerName, string headerValue) => throw new NotSupportedException();
        public Stream GetStream() => body;
        public Task<Stream> GetStreamAsync() => Task.FromResult(body);
    }

    private async Task<IEdmModel> MetadataAsync()
    {
        var response = await app.SendAsync(HttpMethod.Get, "/odata/$metadata", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = XmlReader.Create(await response.Content.ReadAsStreamAsync());
        return CsdlReader.Parse(reader);
    }

    /// <summary>Reads every resource of a query, following @odata.nextLink as the reader reports it.</summary>
    private async Task<(List<ODataResource> Rows, int Pages)> ReadAllAsync(IEdmModel model, string entitySet, string query)
    {
        var set = model.EntityContainer.FindEntitySet(entitySet);
        var rows = new List<ODataResource>();
        var pages = 0;
        var url = $"/odata/{entitySet}?{query}";
        while (url is not null)
        {
            var response = await app.SendAsync(HttpMethod.Get, url, TestKeys.Reader);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var message = new ResponseMessage(response, await response.Content.ReadAsStreamAsync());
            using var messageReader = new ODataMessageReader((IODataResponseMessageAsync)message, new ODataMessageReaderSettings { EnableMessageStreamDisposal = false }, model);
            var reader = await messageReader.CreateODataResourceSetReaderAsync(set, set.EntityType);
            Uri? next = null;
            while (await reader.ReadAsync())
            {
                if (reader.State == ODataReaderState.ResourceEnd && reader.Item is ODataResource resource) rows.Add(resource);
                if (reader.State == ODataReaderState.ResourceSetEnd) next = ((ODataResourceSet)reader.Item).NextPageLink;
            }
            pages++;
            url = next?.PathAndQuery;
        }
        return (rows, pages);
    }

    private static object? Prop(ODataResource r, string name) => r.Properties.OfType<ODataProperty>().Single(p => p.Name == name).Value;

    [Fact]
    public async Task The_feed_gives_the_same_rows_as_the_api_across_server_driven_pages()
    {
        var model = await MetadataAsync();
        Assert.NotNull(model.EntityContainer.FindEntitySet("Snapshots"));
        Assert.NotNull(model.EntityContainer.FindEntitySet("GoalAttainment"));
        Assert.NotNull(model.EntityContainer.FindEntitySet("StaffScorecards"));
        Assert.NotNull(model.EntityContainer.FindEntitySet("Benchmarks"));
        Assert.NotNull(model.EntityContainer.FindEntitySet("Alerts"));

        var (rows, pages) = await ReadAllAsync(model, "Snapshots", "$filter=Period eq '2026-03'");
        var api = await ApiDriver.SnapshotsAsync(app, "period=2026-03");
        Assert.True(pages > 2, $"expected several pages of 50, got {pages}");
        Assert.Equal(api.Count, rows.Count);
        var byKey = rows.ToDictionary(r => ((string)Prop(r, "indicator")!, (string)Prop(r, "scope")!));
        foreach (var row in api)
        {
            var odata = byKey[(row.GetProperty("indicator").GetString()!, row.GetProperty("scope").GetString()!)];
            var expected = ApiDriver.Value(row);
            var actual = Prop(odata, "value") is decimal d ? (double)d : (double?)null;
            Assert.True(expected is null ? actual is null : Math.Abs(expected.Value - actual!.Value) <= 1e-9 * Math.Max(1, Math.Abs(expected.Value)), $"{row}");
        }
    }

    [Fact]
    public async Task Filters_fold_on_period_start_and_computed_at_for_incremental_refresh()
    {
        var model = await MetadataAsync();
        var (march, _) = await ReadAllAsync(model, "Snapshots", "$filter=PeriodStart ge 2026-03-01T00:00:00Z and PeriodStart lt 2026-04-01T00:00:00Z and Scope eq 'org'&$select=Indicator,Period,Value");
        Assert.NotEmpty(march);
        Assert.All(march, r => Assert.Equal("2026-03", Prop(r, "period")));
        var (recent, _) = await ReadAllAsync(model, "Snapshots", "$filter=ComputedAt ge 2020-01-01T00:00:00Z and Indicator eq 'com.revenue'");
        Assert.Equal(["2026-03", "2026-04"], recent.Select(r => (string)Prop(r, "period")!).Distinct().Order());
        var (none, _) = await ReadAllAsync(model, "Snapshots", "$filter=ComputedAt ge 2100-01-01T00:00:00Z");
        Assert.Empty(none);
    }

    [Fact]
    public async Task Goal_attainment_scorecards_benchmarks_and_alerts_are_entity_sets_too()
    {
        var model = await MetadataAsync();
        var (goals, _) = await ReadAllAsync(model, "GoalAttainment", "$filter=Period eq '2026-03'");
        Assert.Equal(["overall", "revenue"], goals.Select(g => (string)Prop(g, "goalId")!).Order());
        // A composite goal measures no indicator in no scope: null, as /api/goals/attainment says, not "".
        var composite = goals.Single(g => (string)Prop(g, "goalId")! == "overall");
        Assert.Null(Prop(composite, "indicator"));
        Assert.Null(Prop(composite, "scope"));
        var revenue = goals.Single(g => (string)Prop(g, "goalId")! == "revenue");
        Assert.Equal("com.revenue", Prop(revenue, "indicator"));
        // The goal's actual is the snapshot's value, of the same type (found by probing: a Double beside the snapshots' Decimal).
        var (snapshot, _) = await ReadAllAsync(model, "Snapshots", "$filter=Period eq '2026-03' and Indicator eq 'com.revenue' and Scope eq 'org'");
        Assert.IsType<decimal>(Prop(revenue, "actual"));
        Assert.Equal(Prop(Assert.Single(snapshot), "value"), Prop(revenue, "actual"));
        // The Persian name a Persian report shows, as /api/goals/attainment gives it.
        Assert.Equal("درآمد", Prop(revenue, "nameFa"));
        Assert.Null(Prop(composite, "nameFa"));
        var (cards, _) = await ReadAllAsync(model, "StaffScorecards", "$filter=Period eq '2026-04' and StaffId eq 'S-01'");
        Assert.NotNull(Prop(Assert.Single(cards), "payout"));
        var (benchmarks, _) = await ReadAllAsync(model, "Benchmarks", "$filter=Period eq '2026-03'");
        Assert.All(benchmarks, b => Assert.StartsWith("bench.", (string)Prop(b, "indicator")!));
        var (alerts, _) = await ReadAllAsync(model, "Alerts", "$filter=Time ge 2020-01-01T00:00:00Z and Kind eq 'threshold'");
        Assert.Equal(2, alerts.Count);
    }

    [Fact]
    public async Task Rows_carry_the_members_api_md_names_in_camel_case_whatever_case_the_query_uses()
    {
        // Found by a contract probe: the feed's rows had PascalCase members ("Indicator"), where api.md's snapshot
        // row, which names OData Snapshots, has "indicator"; a client reading row.indicator found nothing.
        string[] snapshotRow = ["indicator", "family", "scope", "grain", "period", "value", "unit", "direction", "kind", "factCount", "computedAt", "runId", "version"];
        string[] attainmentRow = ["goalId", "indicator", "scope", "grain", "period", "actual", "target", "attainment", "projected", "projectedAttainment", "status"];
        foreach (var (query, members) in new[]
                 {
                     ("/odata/Snapshots?$filter=Period eq '2026-03'&$top=1", snapshotRow),
                     ("/odata/Snapshots?$filter=period eq '2026-03'&$top=1&$select=indicator,value", ["indicator", "value"]),
                     ("/odata/GoalAttainment?$filter=Period eq '2026-03'&$top=1", attainmentRow),
                 })
        {
            var response = await app.SendAsync(HttpMethod.Get, query, TestKeys.Reader);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {body}");
            var row = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("value")[0];
            var names = row.EnumerateObject().Select(p => p.Name).ToList();
            Assert.All(members, m => Assert.Contains(m, names));
            Assert.All(names, n => Assert.True(char.IsLower(n[0]), $"{query}: member {n}"));
        }
        var metadata = await (await app.SendAsync(HttpMethod.Get, "/odata/$metadata", TestKeys.Reader)).Content.ReadAsStringAsync();
        Assert.Contains("Name=\"periodStart\"", metadata);
    }

    [Fact]
    public async Task Count_top_orderby_and_select_work_on_a_bounded_filter()
    {
        var response = await app.SendAsync(HttpMethod.Get, "/odata/Snapshots?$filter=Period eq '2026-04' and Indicator eq 'com.revenue'&$orderby=Value desc&$top=3&$count=true&$select=Scope,Value", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await AppFixture.JsonAsync(response);
        var values = body.GetProperty("value").EnumerateArray().Select(v => v.GetProperty("value").GetDouble()).ToList();
        Assert.Equal(3, values.Count);
        Assert.Equal(values.OrderDescending(), values);
        Assert.True(body.GetProperty("@odata.count").GetInt32() > 3);
        Assert.False(body.GetProperty("value")[0].TryGetProperty("indicator", out _));

        // Without $count=true (or with $count=false) no count is written, ordered or not.
        foreach (var count in new[] { "", "&$count=false" })
        {
            var plain = await AppFixture.JsonAsync(await app.SendAsync(HttpMethod.Get, "/odata/Snapshots?$filter=Period eq '2026-04' and Indicator eq 'com.revenue'&$orderby=Value desc" + count, TestKeys.Reader));
            Assert.False(plain.TryGetProperty("@odata.count", out _), count);
        }
    }

    [Theory]
    [InlineData("Snapshots", "$filter=Period eq '2026-04' and Indicator eq 'com.revenue'")]
    [InlineData("Benchmarks", "$filter=Period eq '2026-03'")]
    [InlineData("GoalAttainment", "$filter=Period eq '2026-03'")]
    [InlineData("StaffScorecards", "$filter=Period eq '2026-04'")]
    [InlineData("Alerts", "$filter=Time ge 2020-01-01T00:00:00Z")]
    public async Task Each_rows_odata_id_under_full_metadata_reads_that_row(string entitySet, string query)
    {
        // Found by probing: odata.metadata=full gives every row an @odata.id link, and those links answered 404.
        var request = app.Request(HttpMethod.Get, $"/odata/{entitySet}?{query}&$top=3", TestKeys.Reader);
        request.Headers.Add("Accept", "application/json;odata.metadata=full");
        var feed = await AppFixture.JsonAsync(await app.Client.SendAsync(request));
        var rows = feed.GetProperty("value").EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            var link = new Uri(row.GetProperty("@odata.id").GetString()!, UriKind.RelativeOrAbsolute);
            var response = await app.SendAsync(HttpMethod.Get, link.IsAbsoluteUri ? link.PathAndQuery : "/odata/" + link.OriginalString, TestKeys.Reader);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{link}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var one = await AppFixture.JsonAsync(response);
            Assert.Equal(row.GetProperty("id").GetString(), one.GetProperty("id").GetString());
            foreach (var member in new[] { "period", "value", "payout", "attainment", "message" })
            {
                if (row.TryGetProperty(member, out var expected)) Assert.Equal(expected.ToString(), one.GetProperty(member).ToString());
            }
        }
    }

    [Theory]
    [InlineData("Snapshots('month%7C2026-04%7Ccom.revenue%7Cregion:atlantis')")]
    [InlineData("Snapshots('month%7C2019-04%7Ccom.revenue%7Corg')")]
    [InlineData("Snapshots('month%7C2026-13%7Ccom.revenue%7Corg')")]
    [InlineData("Snapshots('not-a-key')")]
    [InlineData("GoalAttainment('month%7C2026-03%7Cgoal:none')")]
    [InlineData("StaffScorecards('month%7C2026-04%7Corg')")]
    [InlineData("Alerts('no-such-alert')")]
    public async Task A_key_of_no_row_is_a_404_naming_it(string path)
    {
        var response = await app.SendAsync(HttpMethod.Get, $"/odata/{path}", TestKeys.Reader);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"There is no entity '", (await AppFixture.JsonAsync(response)).GetProperty("detail").GetString());
        Assert.Contains($" in {path[..path.IndexOf('(')]}:", (await AppFixture.JsonAsync(response)).GetProperty("detail").GetString());
    }
}
