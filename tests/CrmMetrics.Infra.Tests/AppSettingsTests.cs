using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CrmMetrics.Infra.Tests;

/// <summary>The function app's settings: identity-based connections, product settings, hashed API keys, no secrets.</summary>
[Collection(InfraCollection.Name)]
public sealed class AppSettingsTests(InfraFixture infra)
{
    /// <summary>The settings a deployment with every default would write, partly evaluated.</summary>
    private string Evaluated => InfraFixture.EvaluatedSettings(infra.Snapshot);

    /// <summary>One setting of <see cref="Evaluated"/>: a literal's text, or the expression known only at deployment.</summary>
    private string Setting(string name) =>
        Arm.Setting(Evaluated, name) ?? throw new Xunit.Sdk.XunitException($"App setting {name} is missing.");

    /// <summary>A snapshot output as the bare expression the settings would hold (without the enclosing brackets).</summary>
    private string OutputExpression(string name)
    {
        var text = (string)infra.Snapshot["outputs"]![name]!;
        Assert.True(text.StartsWith('[') && text.EndsWith(']'), $"{name} is known before deployment ({text}), not an expression.");
        return text[1..^1];
    }

    [Fact]
    public void Host_storage_uses_the_identity_instead_of_a_connection_string()
    {
        Assert.Equal((string?)infra.Snapshot["outputs"]!["STORAGE_ACCOUNT_NAME"], Setting("AzureWebJobsStorage__accountName"));
        Assert.Equal("managedidentity", Setting("AzureWebJobsStorage__credential"));
        Assert.Equal(OutputExpression("AZURE_CLIENT_ID"), Setting("AzureWebJobsStorage__clientId"));
        Assert.Null(Arm.Setting(Evaluated, "AzureWebJobsStorage"));
    }

    [Fact]
    public void Host_storage_service_uris_are_the_accounts_own_endpoints()
    {
        // Without them the app and the host build https://<account>.<service>.core.windows.net, which is
        // wrong outside global Azure or with custom DNS.
        var storage = (string)Assert.Single(infra.PredictedResources, r => Arm.Type(r) == "Microsoft.Storage/storageAccounts")["id"]!;
        foreach (var service in new[] { "blob", "queue", "table" })
        {
            var uri = Setting($"AzureWebJobsStorage__{service}ServiceUri");
            Assert.StartsWith($"reference('{storage}'", uri, StringComparison.Ordinal);
            Assert.EndsWith($".primaryEndpoints.{service}", uri, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Alerts_binding_connection_uses_the_identity()
    {
        Assert.Equal(OutputExpression("SERVICE_BUS_NAMESPACE_FQDN"), Setting("AlertsServiceBus__fullyQualifiedNamespace"));
        Assert.Equal("managedidentity", Setting("AlertsServiceBus__credential"));
        Assert.Equal(OutputExpression("AZURE_CLIENT_ID"), Setting("AlertsServiceBus__clientId"));
        Assert.Null(Arm.Setting(Evaluated, "AlertsServiceBus"));
    }

    [Fact]
    public void Telemetry_authenticates_with_the_identity()
    {
        var insights = (string)Assert.Single(infra.PredictedResources, r => Arm.Type(r) == "Microsoft.Insights/components")["id"]!;
        var connectionString = Setting("APPLICATIONINSIGHTS_CONNECTION_STRING");
        Assert.Contains($"reference('{insights}'", connectionString, StringComparison.Ordinal);
        Assert.EndsWith(".ConnectionString", connectionString, StringComparison.Ordinal);

        var authentication = Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING");
        Assert.Contains("'Authorization=AAD;ClientId=", authentication, StringComparison.Ordinal);
        Assert.Contains(OutputExpression("AZURE_CLIENT_ID"), authentication, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_deprecated_on_flex_consumption_are_not_set()
    {
        // FUNCTIONS_WORKER_RUNTIME is replaced by functionAppConfig.runtime on Flex Consumption; the others
        // are set by the platform or not supported there.
        foreach (var name in new[]
                 {
                     "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION", "FUNCTIONS_EXTENSION_VERSION",
                     "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
                     "WEBSITE_TIME_ZONE", "TZ", "SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD",
                 })
        {
            Assert.Null(Arm.Setting(Evaluated, name));
            Assert.DoesNotContain($"'{name}'", infra.Build.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"{name}\"", infra.Build.StdOut, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Product_settings_take_the_documented_defaults()
    {
        // As evaluated for a deployment that takes every default.
        foreach (var (name, value) in new[]
                 {
                     ("CrmMetrics__ReportingCurrency", "EUR"),
                     ("CrmMetrics__Calendar", "gregorian"),
                     ("CrmMetrics__TimeZone", "UTC"),
                     ("CrmMetrics__DeploymentName", InfraFixture.EnvironmentName),
                     ("KpiSchedule", "0 */15 * * * *"),
                     ("AlertDigestSchedule", "0 0 7-11 * * *"),
                     ("AlertsTopicName", "executive-alerts"),
                     ("AzureWebJobsStorage__credential", "managedidentity"),
                     ("AlertsServiceBus__credential", "managedidentity"),
                     ("AzureWebJobsDisableHomepage", "true"),
                     // The app's own defaults (CrmMetricsSettings, RateLimits.Defaults), written out.
                     ("CrmMetrics__DefaultSlaHours", "48"),
                     ("CrmMetrics__Grains", "day,week,month,quarter,year"),
                     ("CrmMetrics__ODataPageSize", "1000"),
                     ("CrmMetrics__RateLimits__IngestPerSecond", "10"),
                     ("CrmMetrics__RateLimits__IngestBurst", "50"),
                     ("CrmMetrics__RateLimits__ReadsPerSecond", "50"),
                     ("CrmMetrics__RateLimits__ReadsBurst", "200"),
                 })
        {
            Assert.Equal(value, Setting(name));
        }

        // No exchange rates unless given.
        Assert.DoesNotContain("CrmMetrics__ExchangeRates__", Evaluated, StringComparison.Ordinal);
    }

    [Fact]
    public void Product_settings_come_from_their_parameters()
    {
        var snapshot = infra.SnapshotOfMain(
            "main-product-settings",
            """
            param reportingCurrency = 'chf'
            param calendar = 'fiscal:4'
            param timeZone = 'Asia/Tehran'
            param deploymentName = 'crm-prod.eu_1'
            param kpiSchedule = '0 */5 * * * *'
            param alertDigestSchedule = '0 30 6 * * 1-5'
            param exchangeRates = { USD: '0.92', GBP: '1.17' }
            param defaultSlaHours = 24
            param grains = ['day', 'month']
            param odataPageSize = 500
            param rateLimitIngestPerSecond = 20
            param rateLimitIngestBurst = 100
            param rateLimitReadsPerSecond = 0
            param rateLimitReadsBurst = 0
            """);
        var settings = InfraFixture.EvaluatedSettings(snapshot);

        foreach (var (name, value) in new[]
                 {
                     ("CrmMetrics__ReportingCurrency", "CHF"), // upper-cased, as the app requires
                     ("CrmMetrics__Calendar", "fiscal:4"),
                     ("CrmMetrics__TimeZone", "Asia/Tehran"),
                     ("CrmMetrics__DeploymentName", "crm-prod.eu_1"),
                     ("KpiSchedule", "0 */5 * * * *"),
                     ("AlertDigestSchedule", "0 30 6 * * 1-5"),
                     ("CrmMetrics__ExchangeRates__USD", "0.92"),
                     ("CrmMetrics__ExchangeRates__GBP", "1.17"),
                     ("CrmMetrics__DefaultSlaHours", "24"),
                     ("CrmMetrics__Grains", "day,month"),
                     ("CrmMetrics__ODataPageSize", "500"),
                     ("CrmMetrics__RateLimits__IngestPerSecond", "20"),
                     ("CrmMetrics__RateLimits__IngestBurst", "100"),
                     ("CrmMetrics__RateLimits__ReadsPerSecond", "0"),
                     ("CrmMetrics__RateLimits__ReadsBurst", "0"),
                 })
        {
            Assert.Equal(value, Arm.Setting(settings, name));
        }

        // Each deployment writes the complete settings collection (replacing what was there), so every
        // setting the app reads under CrmMetrics must be reachable from a parameter, or a change made by
        // hand would be the only way to set it and the next deployment would undo it.
        var source = File.ReadAllText(Path.Combine(infra.RepoRoot, "src", "CrmMetrics.Functions", "Hosting", "CrmMetricsSettings.cs"));
        string[] Names(string field) =>
            Regex.Match(source, field + @"\s*=\s*\[(?<names>[^\]]*)\]").Groups["names"].Value
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(n => n.Trim('"'))
                .ToArray();
        var appSettings = Names("string\\[\\] Settings");
        var rateLimitSettings = Names("RateLimitSettings");
        Assert.Contains("ReportingCurrency", appSettings);
        Assert.Contains("IngestBurst", rateLimitSettings);
        foreach (var name in appSettings.Except(["RateLimits", "ExchangeRates", "Keys", "PublicBaseUrl"]))
        {
            Assert.True(Arm.Setting(settings, $"CrmMetrics__{name}") is not null, $"CrmMetrics__{name} has no parameter.");
        }

        foreach (var name in rateLimitSettings)
        {
            Assert.True(Arm.Setting(settings, $"CrmMetrics__RateLimits__{name}") is not null, $"CrmMetrics__RateLimits__{name} has no parameter.");
        }

        // Sections and the URL are covered by their own tests (keys, exchange rates above, PublicBaseUrl).
    }

    [Fact]
    public void Public_base_url_is_the_apps_own_address_unless_a_parameter_gives_one()
    {
        // Alert links go out through Service Bus: a relative /api/snapshots?… link would lead nowhere.
        Assert.Equal(OutputExpression("FUNCTION_APP_URL"), Setting("CrmMetrics__PublicBaseUrl"));

        var custom = InfraFixture.EvaluatedSettings(infra.SnapshotOfMain("main-public-url", "param publicBaseUrl = 'https://metrics.example.com'"));
        Assert.Equal("https://metrics.example.com", Arm.Setting(custom, "CrmMetrics__PublicBaseUrl"));
        Assert.DoesNotContain("defaultHostName", custom, StringComparison.Ordinal);
    }

    [Fact]
    public void Calendar_parameter_allows_gregorian_persian_and_twelve_fiscal_years()
    {
        var definitions = infra.Template["definitions"]!.AsObject();
        var calendarType = infra.Template["parameters"]!["calendar"]!["$ref"]!.GetValue<string>().Split('/')[^1];
        var allowed = definitions[calendarType]!["allowedValues"]!.AsArray().Select(v => (string)v!).Order();

        Assert.Equal(new[] { "gregorian", "persian" }.Concat(Enumerable.Range(1, 12).Select(m => $"fiscal:{m}")).Order(), allowed);
        Assert.Equal("gregorian", (string?)infra.Template["parameters"]!["calendar"]!["defaultValue"]);
    }

    [Fact]
    public void Api_keys_parameter_is_secure()
    {
        var apiKeys = infra.Template["parameters"]!["apiKeys"]!;
        var typeName = apiKeys["$ref"]!.GetValue<string>().Split('/')[^1];

        Assert.Equal("secureObject", (string?)infra.Template["definitions"]![typeName]!["type"]);
        Assert.Null(apiKeys["defaultValue"]);

        // The key settings reach the function app module through its secure parameter, not the plain one.
        var functionApp = Arm.Module(infra.Template, "function-app")["properties"]!;
        Assert.Equal("secureObject", (string?)functionApp["template"]!["parameters"]!["secureAppSettings"]!["type"]);
        var apiVariables = Arm.Module(infra.Template, "api")["properties"]!["template"]!["variables"]!.AsObject();
        string Resolved(JsonNode? value) =>
            System.Text.RegularExpressions.Regex.Replace(Arm.Text(value), @"variables\('(\w+)'\)", m => Arm.Text(apiVariables[m.Groups[1].Value]));
        Assert.Contains("parameters('apiKeys')", Resolved(functionApp["parameters"]!["secureAppSettings"]), StringComparison.Ordinal);
        Assert.DoesNotContain("apiKeys", Resolved(functionApp["parameters"]!["appSettings"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Api_keys_become_role_and_lower_case_hash_settings()
    {
        // Runs the exported apiKeySettings function that app/api.bicep uses, on sample entries.
        var types = infra.RelativeFromWorkDirectory(Path.Combine(infra.InfraDirectory, "app", "types.bicep"));
        var upper = "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789";
        var snapshot = infra.SnapshotOf(
            "keys",
            "using 'keys.bicep'\n",
            $$"""
              import { apiKeySettings } from '{{types}}'

              output settings object = apiKeySettings([
                { name: 'ops', role: 'admin', sha256: '{{upper}}' }
                { name: 'dashboard', role: 'reader', sha256: '{{new string('1', 64)}}' }
                { name: 'crm_sync', role: 'writer', sha256: '{{new string('f', 64)}}' }
              ])

              output none object = apiKeySettings([])
              """);

        var settings = snapshot["outputs"]!["settings"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["CrmMetrics__Keys__ops"] = "admin:" + upper.ToLowerInvariant(),
                ["CrmMetrics__Keys__dashboard"] = "reader:" + new string('1', 64),
                ["CrmMetrics__Keys__crm_sync"] = "writer:" + new string('f', 64),
            },
            settings);
        Assert.Empty(snapshot["outputs"]!["none"]!.AsObject());
    }

    [Fact]
    public void No_account_keys_shared_access_keys_or_key_bearing_connection_strings_anywhere()
    {
        var template = infra.Build.StdOut;
        foreach (var pattern in new[]
                 {
                     @"listKeys\s*\(", @"listConnectionStrings\s*\(", @"listAuthKeys\s*\(", @"listSecrets\s*\(",
                     "AccountKey", "SharedAccessKey", "DefaultEndpointsProtocol", "primaryKey", "secondaryKey",
                     "primaryConnectionString", "InstrumentationKey=",
                 })
        {
            Assert.DoesNotMatch(new Regex(pattern, RegexOptions.IgnoreCase), template);
        }

        // Same for the evaluated settings of a concrete deployment.
        Assert.DoesNotMatch(new Regex("AccountKey|SharedAccessKey|listKeys", RegexOptions.IgnoreCase), Evaluated);
    }
}
