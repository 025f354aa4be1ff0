using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CrmMetrics.Infra.Tests;

/// <summary>The function app's settings: identity-based connections, product settings, hashed API keys, no secrets.</summary>
[Collection(InfraCollection.Name)]
public sealed class AppSettingsTests(InfraFixture infra)
{
    /// <summary>The literal settings object app/api.bicep hands to the function app module.</summary>
    private JsonObject AppSettings =>
        Arm.Module(infra.Template, "api")["properties"]!["template"]!["variables"]!["appSettings"]!.AsObject();

    private string Setting(string name) =>
        (string?)AppSettings[name] ?? throw new Xunit.Sdk.XunitException($"App setting {name} is missing.");

    [Fact]
    public void Host_storage_uses_the_identity_instead_of_a_connection_string()
    {
        Assert.Equal("[parameters('storageAccountName')]", Setting("AzureWebJobsStorage__accountName"));
        Assert.Equal("managedidentity", Setting("AzureWebJobsStorage__credential"));
        Assert.Equal("[parameters('identityClientId')]", Setting("AzureWebJobsStorage__clientId"));
        Assert.Null(AppSettings["AzureWebJobsStorage"]);
    }

    [Fact]
    public void Alerts_binding_connection_uses_the_identity()
    {
        Assert.Equal("[parameters('serviceBusFullyQualifiedNamespace')]", Setting("AlertsServiceBus__fullyQualifiedNamespace"));
        Assert.Equal("managedidentity", Setting("AlertsServiceBus__credential"));
        Assert.Equal("[parameters('identityClientId')]", Setting("AlertsServiceBus__clientId"));
        Assert.Null(AppSettings["AlertsServiceBus"]);
    }

    [Fact]
    public void Telemetry_authenticates_with_the_identity()
    {
        Assert.Equal("[parameters('applicationInsightsConnectionString')]", Setting("APPLICATIONINSIGHTS_CONNECTION_STRING"));
        Assert.Equal("[format('Authorization=AAD;ClientId={0}', parameters('identityClientId'))]", Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"));
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
            Assert.Null(AppSettings[name]);
            Assert.DoesNotContain($"'{name}'", infra.Build.StdOut, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"{name}\"", infra.Build.StdOut, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Product_settings_come_from_parameters_with_the_documented_defaults()
    {
        Assert.Equal("[parameters('reportingCurrency')]", Setting("CrmMetrics__ReportingCurrency"));
        Assert.Equal("[parameters('calendar')]", Setting("CrmMetrics__Calendar"));
        Assert.Equal("[parameters('timeZone')]", Setting("CrmMetrics__TimeZone"));
        Assert.Equal("[parameters('deploymentName')]", Setting("CrmMetrics__DeploymentName"));
        Assert.Equal("[parameters('kpiSchedule')]", Setting("KpiSchedule"));
        Assert.Equal("[parameters('alertDigestSchedule')]", Setting("AlertDigestSchedule"));

        // As evaluated for a deployment that takes every default.
        var evaluated = (string)Assert.Single(infra.PredictedResources, r => Arm.Type(r) == "Microsoft.Web/sites/config")["properties"]!;
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
                 })
        {
            Assert.Contains($"'{name}', '{value}'", evaluated, StringComparison.Ordinal);
        }
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
        Assert.Equal("[variables('keySettings')]", (string?)Arm.Module(infra.Template, "function-app")["properties"]!["parameters"]!["secureAppSettings"]!["value"]);
        Assert.Equal("secureObject", (string?)Arm.Module(infra.Template, "function-app")["properties"]!["template"]!["parameters"]!["secureAppSettings"]!["type"]);
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
        var evaluated = Arm.Text(Assert.Single(infra.PredictedResources, r => Arm.Type(r) == "Microsoft.Web/sites/config"));
        Assert.DoesNotMatch(new Regex("AccountKey|SharedAccessKey|listKeys", RegexOptions.IgnoreCase), evaluated);
    }
}
