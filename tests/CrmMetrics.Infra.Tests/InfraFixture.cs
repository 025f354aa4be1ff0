using System.Text.Json;
using System.Text.Json.Nodes;

namespace CrmMetrics.Infra.Tests;

/// <summary>
/// Runs bicep once per test run: <c>build</c> (the ARM template), <c>lint</c>, and <c>snapshot</c> (the
/// resources a deployment would create, with every value that is known before deployment evaluated).
/// Each result is computed on first use, so a failing step fails only the tests that need it.
/// </summary>
public sealed class InfraFixture : IDisposable
{
    // Fixed values for the snapshot. The environment name is the longest main.bicep allows, in mixed
    // case, so name-length limits and lower-casing are exercised.
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000000a1";
    public const string TenantId = "00000000-0000-0000-0000-0000000000b2";
    public const string ResourceGroup = "rg-crmmetrics-ci";
    public const string Location = "westeurope";
    public const string EnvironmentName = "CrmMetrics-CI-Env-0123456789abcd";

    private readonly Lazy<BicepCli> _bicep;
    private readonly Lazy<BicepResult> _build;
    private readonly Lazy<JsonObject> _template;
    private readonly Lazy<BicepResult> _lint;
    private readonly Lazy<JsonObject> _snapshot;
    private readonly string _workDirectory;

    public InfraFixture()
    {
        RepoRoot = FindRepoRoot();
        InfraDirectory = Path.Combine(RepoRoot, "infra");
        MainBicep = Path.Combine(InfraDirectory, "main.bicep");
        _workDirectory = Path.Combine(AppContext.BaseDirectory, "bicep-work-" + Guid.NewGuid().ToString("N"));

        _bicep = new Lazy<BicepCli>(BicepCli.FromRestoredPackage);
        _build = new Lazy<BicepResult>(() => Bicep.Run(InfraDirectory, "build", MainBicep, "--stdout"));
        _template = new Lazy<JsonObject>(() =>
        {
            var build = Build;
            Assert.True(build.ExitCode == 0, build.ToString());
            return JsonNode.Parse(build.StdOut)?.AsObject() ?? throw new InvalidOperationException("bicep build printed no JSON.");
        });
        _lint = new Lazy<BicepResult>(() => Bicep.Run(InfraDirectory, "lint", MainBicep));
        _snapshot = new Lazy<JsonObject>(CreateSnapshot);
    }

    public string RepoRoot { get; }

    public string InfraDirectory { get; }

    public string MainBicep { get; }

    public BicepCli Bicep => _bicep.Value;

    /// <summary><c>bicep build infra/main.bicep --stdout</c>.</summary>
    public BicepResult Build => _build.Value;

    /// <summary>The compiled ARM template.</summary>
    public JsonObject Template => _template.Value;

    /// <summary><c>bicep lint infra/main.bicep</c>.</summary>
    public BicepResult Lint => _lint.Value;

    /// <summary>The snapshot of main.bicep deployed with <see cref="EnvironmentName"/> and defaults.</summary>
    public JsonObject Snapshot => _snapshot.Value;

    /// <summary>Predicted resources of <see cref="Snapshot"/>.</summary>
    public IReadOnlyList<JsonObject> PredictedResources =>
        Snapshot["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();

    /// <summary>The id ARM gives a resource in the snapshot's resource group.</summary>
    public static string ResourceId(string type, string name) =>
        $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/{type}/{name}";

    /// <summary>
    /// Snapshots a throw-away .bicepparam next to a throw-away .bicep file. Both live under this test
    /// assembly's output folder (bin/, ignored by git); bicep wants the paths they use to be relative.
    /// </summary>
    public JsonObject SnapshotOf(string name, string bicepParamContent, string? bicepContent = null, params string[] extraArguments)
    {
        var result = RunSnapshot(name, bicepParamContent, bicepContent, extraArguments);
        // Linter warnings are the lint test's business; here only a failed evaluation counts.
        Assert.True(result.ExitCode == 0 && result.Errors.Count == 0, result.ToString());

        var snapshotFile = Path.Combine(_workDirectory, name + ".snapshot.json");
        Assert.True(File.Exists(snapshotFile), $"bicep snapshot wrote no {snapshotFile}.\n{result}");
        var snapshot = JsonNode.Parse(File.ReadAllText(snapshotFile))!.AsObject();
        Assert.Empty(snapshot["diagnostics"]?.AsArray() ?? []);
        return snapshot;
    }

    /// <summary>Runs <c>bicep snapshot</c> on a throw-away .bicepparam (and .bicep) and returns the outcome, failed or not.</summary>
    public BicepResult RunSnapshot(string name, string bicepParamContent, string? bicepContent = null, params string[] extraArguments)
    {
        Directory.CreateDirectory(_workDirectory);
        if (bicepContent is not null)
        {
            File.WriteAllText(Path.Combine(_workDirectory, name + ".bicep"), bicepContent);
        }

        var paramFile = Path.Combine(_workDirectory, name + ".bicepparam");
        File.WriteAllText(paramFile, bicepParamContent);
        File.Delete(Path.Combine(_workDirectory, name + ".snapshot.json"));
        return Bicep.Run(_workDirectory, ["snapshot", paramFile, "--mode", "overwrite", .. extraArguments]);
    }

    /// <summary>
    /// The .bicepparam text for main.bicep with <see cref="EnvironmentName"/>, one admin key and
    /// <paramref name="extraParameters"/> (more <c>param x = …</c> lines, or a replacement apiKeys).
    /// </summary>
    public string MainParameters(string extraParameters = "")
    {
        var main = RelativeFromWorkDirectory(MainBicep);
        var apiKeys = extraParameters.Contains("param apiKeys", StringComparison.Ordinal)
            ? ""
            : $$"""
              param apiKeys = {
                keys: [
                  { name: 'ops', role: 'admin', sha256: '{{new string('a', 64)}}' }
                ]
              }
              """;
        return $"using '{main}'\n\nparam environmentName = '{EnvironmentName}'\n{apiKeys}\n{extraParameters}\n";
    }

    /// <summary>The bicep snapshot arguments that fix the subscription, tenant, resource group and location.</summary>
    public static string[] ScopeArguments =>
        ["--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--resource-group", ResourceGroup, "--location", Location];

    /// <summary>A snapshot of main.bicep with <paramref name="extraParameters"/> besides the ones <see cref="Snapshot"/> takes.</summary>
    public JsonObject SnapshotOfMain(string name, string extraParameters) =>
        SnapshotOf(name, MainParameters(extraParameters), bicepContent: null, ScopeArguments);

    /// <summary>
    /// The app settings a snapshot predicts for the function app, as one partly evaluated ARM expression
    /// (values known before deployment are literals; the rest stay <c>reference(…)</c> expressions).
    /// </summary>
    public static string EvaluatedSettings(JsonObject snapshot) =>
        (string)Assert.Single(
            snapshot["predictedResources"]!.AsArray().Select(r => r!.AsObject()),
            r => Arm.Type(r) == "Microsoft.Web/sites/config")["properties"]!;

    /// <summary>A path bicep accepts in a <c>using</c> or <c>import</c> from the work folder.</summary>
    public string RelativeFromWorkDirectory(string path) =>
        Path.GetRelativePath(_workDirectory, path).Replace('\\', '/');

    private JsonObject CreateSnapshot() => SnapshotOfMain("main", "");

    public static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CrmMetrics.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder holding CrmMetrics.sln above {AppContext.BaseDirectory}.");
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_workDirectory))
            {
                Directory.Delete(_workDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Leftovers in bin/ are harmless.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<InfraFixture>
{
    public const string Name = "infra";
}

/// <summary>Helpers for walking ARM templates (languageVersion 1.0 arrays or 2.0 symbolic-name objects).</summary>
public static class Arm
{
    public static IEnumerable<JsonObject> Resources(JsonObject template)
    {
        var resources = template["resources"];
        IEnumerable<JsonNode?> items = resources switch
        {
            JsonArray array => array,
            JsonObject map => map.Select(pair => pair.Value),
            _ => [],
        };
        return items.Where(r => r is not null).Select(r => r!.AsObject());
    }

    /// <summary>Every resource in the template and in the templates of its nested deployments (modules).</summary>
    public static IEnumerable<JsonObject> AllResources(JsonObject template)
    {
        foreach (var resource in Resources(template))
        {
            yield return resource;
            if (Type(resource) == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in AllResources(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>The module (nested deployment) with the given deployment name, anywhere in the tree.</summary>
    public static JsonObject Module(JsonObject template, string deploymentName) =>
        AllResources(template).SingleOrDefault(r => Type(r) == "Microsoft.Resources/deployments" && (string?)r["name"] == deploymentName)
        ?? throw new InvalidOperationException($"No module deployment named '{deploymentName}'.");

    public static string? Type(JsonObject resource) => (string?)resource["type"];

    /// <summary>A node as compact JSON, quotes and other characters as they are (not \u0027 escapes), so it can be searched for expression text.</summary>
    public static string Text(JsonNode? node) =>
        node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null";

    /// <summary>
    /// The value an ARM object expression (such as <see cref="InfraFixture.EvaluatedSettings"/>) gives
    /// <paramref name="name"/>: the text of a string literal, or the expression itself when it is only
    /// known at deployment; null when the name is not there. It reads <c>createObject('name', value, …)</c>
    /// pairs and <c>'name': value</c> members alike, so it does not depend on how the object is assembled;
    /// when the name occurs more than once the last one counts, as <c>union</c> lets the later object win.
    /// </summary>
    public static string? Setting(string expression, string name)
    {
        (int At, string Marker)? last = null;
        foreach (var marker in new[] { $"'{name}', ", $"'{name}': " })
        {
            for (var at = expression.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = expression.IndexOf(marker, at + 1, StringComparison.Ordinal))
            {
                // A key follows an opening parenthesis or brace, or the comma after the previous value.
                var before = expression[..at].TrimEnd();
                if (before.Length > 0 && before[^1] is '(' or '{' or ',' && (last is null || at > last.Value.At))
                {
                    last = (at, marker);
                }
            }
        }

        return last is { } found ? ValueAt(expression, found.At + found.Marker.Length) : null;
    }

    private static string ValueAt(string expression, int start)
    {
        var depth = 0;
        var quoted = false;
        var i = start;
        for (; i < expression.Length; i++)
        {
            var c = expression[i];
            if (quoted)
            {
                if (c == '\'')
                {
                    if (i + 1 < expression.Length && expression[i + 1] == '\'')
                    {
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }

                continue;
            }

            if (c == '\'')
            {
                quoted = true;
            }
            else if (c is '(' or '[' or '{')
            {
                depth++;
            }
            else if (c is ')' or ']' or '}')
            {
                if (depth == 0)
                {
                    break;
                }

                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                break;
            }
        }

        var value = expression[start..i].Trim();
        var isLiteral = value.Length >= 2 && value[0] == '\'' && value[^1] == '\'' && !value[1..^1].Replace("''", "", StringComparison.Ordinal).Contains('\'');
        return isLiteral ? value[1..^1].Replace("''", "'", StringComparison.Ordinal) : value;
    }
}
