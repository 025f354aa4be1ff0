using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.Infra.Tests;

/// <summary>The templates compile and lint cleanly under the repository's linter configuration.</summary>
[Collection(InfraCollection.Name)]
public sealed class BicepToolTests(InfraFixture infra)
{
    [Fact]
    public void Build_succeeds_without_warnings()
    {
        var build = infra.Build;

        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.True(build.Diagnostics.Count == 0, build.ToString());
        Assert.NotNull(JsonNode.Parse(build.StdOut));
    }

    [Fact]
    public void Lint_reports_no_errors_and_no_warnings()
    {
        var lint = infra.Lint;

        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.True(lint.Diagnostics.Count == 0, lint.ToString());
    }

    [Fact]
    public void Bicep_files_are_formatted()
    {
        var files = Directory.GetFiles(infra.InfraDirectory, "*.bicep", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var format = infra.Bicep.Run(infra.InfraDirectory, "format", file, "--stdout");
            Assert.True(format.ExitCode == 0, format.ToString());
            Assert.True(
                Normalize(format.StdOut) == Normalize(File.ReadAllText(file)),
                $"{Path.GetRelativePath(infra.RepoRoot, file)} is not in bicep format layout; run: bicep format {Path.GetRelativePath(infra.RepoRoot, file)}");
        }

        static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd();
    }

    [Fact]
    public void Linter_rules_are_enabled_at_warning_or_error()
    {
        var configPath = Path.Combine(infra.InfraDirectory, "bicepconfig.json");
        var config = JsonNode.Parse(
            File.ReadAllText(configPath),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var core = config["analyzers"]!["core"]!;
        var rules = core["rules"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!["level"]!);

        Assert.True((bool)core["enabled"]!);
        Assert.DoesNotContain(rules, r => r.Value == "info");
        Assert.True(rules.Count(r => r.Value is "warning" or "error") >= 30, "Most linter rules should be switched on.");
        foreach (var rule in new[]
                 {
                     "no-hardcoded-env-urls", "outputs-should-not-contain-secrets", "secure-parameter-default",
                     "secure-params-in-nested-deploy", "secure-secrets-in-params", "use-secure-value-for-secure-inputs",
                     "no-hardcoded-location", "explicit-values-for-loc-params",
                 })
        {
            Assert.True(rules.TryGetValue(rule, out var level) && level == "error", $"{rule} should be an error.");
        }

        // The only rules switched off are the date-dependent ones.
        Assert.Equal(
            ["use-recent-api-versions", "use-recent-module-versions"],
            rules.Where(r => r.Value == "off").Select(r => r.Key).Order());
    }

    [Fact]
    public void Parameters_file_names_only_template_parameters_and_holds_no_keys()
    {
        var parametersFile = JsonNode.Parse(File.ReadAllText(Path.Combine(infra.InfraDirectory, "main.parameters.json")))!;
        var given = parametersFile["parameters"]!.AsObject().Select(p => p.Key).ToList();
        var declared = infra.Template["parameters"]!.AsObject().Select(p => p.Key).ToHashSet();

        Assert.NotEmpty(given);
        Assert.All(given, name => Assert.Contains(name, declared));
        Assert.DoesNotContain("apiKeys", given);
    }

    [Fact]
    public void Template_outputs_what_a_deployer_needs()
    {
        var outputs = infra.Template["outputs"]!.AsObject().Select(o => o.Key).ToHashSet();

        foreach (var name in new[]
                 {
                     "FUNCTION_APP_URL", "FUNCTION_APP_NAME", "STORAGE_ACCOUNT_NAME", "SERVICE_BUS_NAMESPACE_NAME",
                     "SERVICE_BUS_NAMESPACE_FQDN", "ALERTS_TOPIC_NAME", "AZURE_CLIENT_ID", "APPLICATION_INSIGHTS_NAME",
                     "AZURE_RESOURCE_GROUP",
                 })
        {
            Assert.Contains(name, outputs);
        }

        var snapshotOutputs = infra.Snapshot["outputs"]!;
        Assert.Equal(InfraFixture.ResourceGroup, (string?)snapshotOutputs["AZURE_RESOURCE_GROUP"]);
        Assert.Equal("executive-alerts", (string?)snapshotOutputs["ALERTS_TOPIC_NAME"]);
        // https:// and the app's default host name, which Azure assigns at deployment.
        var url = (string)snapshotOutputs["FUNCTION_APP_URL"]!;
        Assert.Contains("'https://", url, StringComparison.Ordinal);
        Assert.Contains($"reference('{InfraFixture.ResourceId("Microsoft.Web/sites", (string)snapshotOutputs["FUNCTION_APP_NAME"]!)}'", url, StringComparison.Ordinal);
        Assert.Contains(".defaultHostName", url, StringComparison.Ordinal);
    }
}
