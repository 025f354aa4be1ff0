using System.Text.Json.Nodes;

namespace CrmMetrics.Functions.Tests.Support;

/// <summary>
/// A function app folder for runtime tests: the real host.json (with overrides) plus test-only
/// function folders whose handlers the test registers.
/// </summary>
public sealed class TestFunctionsFolder : IDisposable
{
    public TestFunctionsFolder(Action<JsonObject>? editHost = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "crm-fn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!.AsObject();
        editHost?.Invoke(host);
        File.WriteAllText(Path.Combine(Root, "host.json"), host.ToJsonString());
    }

    public string Root { get; }

    public TestFunctionsFolder Add(string name, params object[] bindings)
    {
        Directory.CreateDirectory(Path.Combine(Root, name));
        File.WriteAllText(Path.Combine(Root, name, "function.json"), System.Text.Json.JsonSerializer.Serialize(new { bindings }));
        return this;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
