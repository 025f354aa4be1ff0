namespace CrmMetrics.Functions.Hosting;

/// <summary>Whether the Functions host drives the app (custom handler) or the app runs its own triggers.</summary>
public enum RunMode
{
    /// <summary>Started by the Functions host: listen on FUNCTIONS_CUSTOMHANDLER_PORT, serve invocations, leave triggers to the host.</summary>
    FunctionsHost,

    /// <summary>No host: run the local trigger runtime from the same function.json files.</summary>
    Local,
}

public static class RunModes
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public static RunMode Detect(IConfiguration configuration) =>
        string.IsNullOrEmpty(configuration[PortVariable]) ? RunMode.Local : RunMode.FunctionsHost;
}
