namespace CrmMetrics.Infra.Tests;

/// <summary>
/// Parameter values Bicep's types accept but the app refuses at start (CrmMetricsSettings.Load), which
/// would deploy fine and then stop the worker, taking /api/health down: the deployment must fail instead.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class ParameterCheckTests(InfraFixture infra)
{
    private static readonly string Hex64 = new('a', 64);

    [Fact]
    public void Checks_take_what_the_app_takes_and_refuse_what_it_refuses()
    {
        // Each case: a call of an exported check from app/types.bicep, and what the app makes of the value.
        var cases = new (string Call, bool Takes)[]
        {
            ("isDeploymentName('prod')", true),
            ("isDeploymentName('crm-prod.eu_1:blue')", true),
            ($"isDeploymentName('{new string('x', 128)}')", true),
            ($"isDeploymentName('{new string('x', 129)}')", false),
            ("isDeploymentName('')", false),
            ("isDeploymentName('crm prod')", false),
            ("isDeploymentName('crm/prod')", false),
            ("isDeploymentName('prodé')", false),

            ("isKeyName('ops')", true),
            ("isKeyName('crm_sync')", true),
            ("isKeyName('PowerBI_2026')", true),
            ("isKeyName('crm__sync')", false), // CrmMetrics__Keys__crm__sync nests: the app refuses it
            ("isKeyName('crm-sync')", false),
            ("isKeyName('crm.sync')", false),
            ("isKeyName('')", false),

            ($"isSha256Hex('{Hex64}')", true),
            ($"isSha256Hex('{Hex64.ToUpperInvariant()}')", true),
            ($"isSha256Hex('{new string('a', 63)}')", false),
            ($"isSha256Hex('{new string('a', 63)}g')", false),

            ("isCurrencyCode('USD')", true),
            ("isCurrencyCode('usd')", false),
            ("isCurrencyCode('US')", false),
            ("isCurrencyCode('U5D')", false),

            ("isExchangeRate('0.92')", true),
            ("isExchangeRate('1')", true),
            ("isExchangeRate('.5')", true),
            ("isExchangeRate('999999999999.99')", true),
            ("isExchangeRate('0001.5')", true),
            // The app takes rates up to 10^12 (CrmMetricsSettings.MaxExchangeRate), that one included (found in review).
            ("isExchangeRate('1000000000000')", true),
            ("isExchangeRate('1000000000000.000')", true),
            ("isExchangeRate('1000000000000.01')", false),
            ("isExchangeRate('1000000000001')", false),
            ("isExchangeRate('0')", false),
            ("isExchangeRate('0.000')", false),
            ("isExchangeRate('0,9')", false),
            ("isExchangeRate('-1')", false),
            ("isExchangeRate('1e3')", false),
            ("isExchangeRate('1.2.3')", false),
            ("isExchangeRate('')", false),

            ("isPublicBaseUrl('')", true),
            ("isPublicBaseUrl('https://metrics.example.com')", true),
            ("isPublicBaseUrl('http://localhost:7071/base')", true),
            ("isPublicBaseUrl('metrics.example.com')", false),
            ("isPublicBaseUrl('ftp://metrics.example.com')", false),
            ("isPublicBaseUrl('https://metrics.example.com/?x=1')", false),
            ("isPublicBaseUrl('https://metrics.example.com/#top')", false),
            ("isPublicBaseUrl('https://')", false),

            ("empty(scheduleProblem('0 */15 * * * *'))", true),
            ("empty(scheduleProblem('0 0 7-11 * * *'))", true),
            ("empty(scheduleProblem('0 30 6 * * MON-FRI'))", true),
            ("empty(scheduleProblem('0 0 0 1 jan,Jul *'))", true),
            ("empty(scheduleProblem('0 0 7-11/2 * * 0,6'))", true),
            ("empty(scheduleProblem('0 0 0 * * */7'))", true), // a step of 7 is not day 7
            ("empty(scheduleProblem('0  0 12 * * *'))", true), // the app splits on spaces, dropping empty fields
            ("empty(scheduleProblem('*/15 * * * *'))", false), // five fields: a Unix crontab
            ("empty(scheduleProblem('0 */15 * * * * *'))", false),
            ("empty(scheduleProblem('00:15:00'))", false), // time spans: App Service plans only, not Flex Consumption
            ("empty(scheduleProblem('0 0 0 L * *'))", false),
            ("empty(scheduleProblem('0 0 0 15W * *'))", false),
            ("empty(scheduleProblem('0 0 0 ? * MON'))", false),
            ("empty(scheduleProblem('0 0 0 * * MON#2'))", false),
            ("empty(scheduleProblem('0 0 0 * * 7'))", false), // NCRONTAB numbers days 0-6
            ("empty(scheduleProblem('0 0 0 * * 5-7'))", false),
            ("empty(scheduleProblem('60 * * * * *'))", false),
            ("empty(scheduleProblem('0 0 24 * * *'))", false),
            ("empty(scheduleProblem('0 0 0 0 * *'))", false),
            ("empty(scheduleProblem('0 0 0 * 13 *'))", false),
            ("empty(scheduleProblem('0 */0 * * * *'))", false),
            ("empty(scheduleProblem('0 1,,2 * * * *'))", false),
            ("empty(scheduleProblem('0 1-2-3 * * * *'))", false),
        };

        var types = infra.RelativeFromWorkDirectory(Path.Combine(infra.InfraDirectory, "app", "types.bicep"));
        // One output holding every result: a template may have at most 64 outputs.
        var calls = string.Join("\n", cases.Select(c => "  " + c.Call));
        var snapshot = infra.SnapshotOf(
            "checks",
            "using 'checks.bicep'\n",
            $"import {{ isCurrencyCode, isDeploymentName, isExchangeRate, isKeyName, isPublicBaseUrl, isSha256Hex, scheduleProblem }} from '{types}'\n\noutput results bool[] = [\n{calls}\n]\n");
        var results = snapshot["outputs"]!["results"]!.AsArray();
        Assert.Equal(cases.Length, results.Count);

        var wrong = cases
            .Select((c, i) => (c.Call, c.Takes, Got: (bool)results[i]!))
            .Where(c => c.Got != c.Takes)
            .Select(c => $"{c.Call} gave {c.Got}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Schedule_problems_name_the_field()
    {
        var types = infra.RelativeFromWorkDirectory(Path.Combine(infra.InfraDirectory, "app", "types.bicep"));
        var snapshot = infra.SnapshotOf(
            "schedule-problems",
            "using 'schedule-problems.bicep'\n",
            $"import {{ scheduleProblem }} from '{types}'\n\noutput dow string = scheduleProblem('0 0 0 * * 7')\noutput fields string = scheduleProblem('*/15 * * * *')\n");

        Assert.Contains("day-of-week field '7'", (string?)snapshot["outputs"]!["dow"]);
        Assert.Contains("0 is Sunday", (string?)snapshot["outputs"]!["dow"]);
        Assert.Contains("6 fields", (string?)snapshot["outputs"]!["fields"]);
    }

    [Fact]
    public void A_deployment_with_settings_the_app_would_refuse_fails_naming_each_parameter()
    {
        var result = infra.RunSnapshot(
            "main-refused",
            infra.MainParameters(
                $$"""
                  param deploymentName = 'crm prod'
                  param kpiSchedule = '0 0 0 * * 7'
                  param alertDigestSchedule = '0 0 7-11 * *'
                  param exchangeRates = { USD: '0,9' }
                  param publicBaseUrl = 'metrics.example.com'
                  param rateLimitIngestPerSecond = 100
                  """),
            bicepContent: null,
            InfraFixture.ScopeArguments);

        Assert.True(result.ExitCode != 0, result.ToString());
        var output = result.StdOut + result.StdErr;
        foreach (var expected in new[]
                 {
                     "deploymentName 'crm prod'", "kpiSchedule '0 0 0 * * 7'", "alertDigestSchedule '0 0 7-11 * *'",
                     "exchangeRates: 'USD'", "publicBaseUrl 'metrics.example.com'",
                     "rateLimitIngestBurst (50) must be at least rateLimitIngestPerSecond (100)",
                 })
        {
            Assert.Contains(expected, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Api_keys_need_usable_names_and_hashes_of_their_own()
    {
        // apiKeys is secure, so a snapshot of main.bicep cannot evaluate it; the check app/api.bicep applies
        // to it (failing the deployment when it finds anything) is run here on sample entries instead.
        var types = infra.RelativeFromWorkDirectory(Path.Combine(infra.InfraDirectory, "app", "types.bicep"));
        var snapshot = infra.SnapshotOf(
            "key-problems",
            "using 'key-problems.bicep'\n",
            $$"""
              import { apiKeyProblems } from '{{types}}'

              output good string[] = apiKeyProblems([
                { name: 'ops', role: 'admin', sha256: '{{Hex64}}' }
                { name: 'crm_sync', role: 'writer', sha256: '{{new string('B', 64)}}' }
              ])

              output none string[] = apiKeyProblems([])

              output bad string[] = apiKeyProblems([
                { name: 'crm__sync', role: 'writer', sha256: '{{new string('1', 64)}}' }
                { name: 'ops', role: 'admin', sha256: '{{new string('g', 64)}}' }
                { name: 'OPS', role: 'reader', sha256: '{{new string('b', 64)}}' }
                { name: 'dashboard', role: 'reader', sha256: '{{new string('B', 64)}}' }
              ])
              """);

        Assert.Empty(snapshot["outputs"]!["good"]!.AsArray());
        Assert.Empty(snapshot["outputs"]!["none"]!.AsArray());
        var bad = string.Join("\n", snapshot["outputs"]!["bad"]!.AsArray().Select(p => (string)p!));
        Assert.Contains("key name 'crm__sync'", bad, StringComparison.Ordinal);
        Assert.Contains("sha256 of key 'ops'", bad, StringComparison.Ordinal);
        Assert.Contains("two keys have the same name", bad, StringComparison.Ordinal);
        Assert.Contains("two keys have the same sha256", bad, StringComparison.Ordinal); // b… and B… are one hash
    }

    [Fact]
    public void Api_key_problems_fail_the_deployment()
    {
        // The compiled module: the key settings handed to the function app are guarded by those checks.
        var variables = Arm.Module(infra.Template, "api")["properties"]!["template"]!["variables"]!.AsObject();
        var guarded = variables.Where(v => Arm.Text(v.Value).Contains("parameters('apiKeys')", StringComparison.Ordinal)).Select(v => Arm.Text(v.Value)).ToList();
        Assert.Contains(guarded, text => text.Contains("apiKeyProblems", StringComparison.Ordinal) && text.Contains("fail(", StringComparison.Ordinal));
    }
}
