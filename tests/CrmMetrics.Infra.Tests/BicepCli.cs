using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace CrmMetrics.Infra.Tests;

/// <summary>The outcome of one bicep invocation.</summary>
public sealed record BicepResult(string Arguments, int ExitCode, string StdOut, string StdErr)
{
    // Diagnostics look like: /path/file.bicep(12,3) : Warning rule-name: message [link]
    private static readonly Regex DiagnosticLine = new(@"\(\d+,\d+\)\s*:\s*(Warning|Error)\b", RegexOptions.CultureInvariant);

    /// <summary>Every warning or error line bicep printed, on either stream.</summary>
    public IReadOnlyList<string> Diagnostics =>
        (StdErr + "\n" + StdOut)
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => DiagnosticLine.IsMatch(line))
            .ToList();

    /// <summary>Only the error lines of <see cref="Diagnostics"/>.</summary>
    public IReadOnlyList<string> Errors =>
        Diagnostics.Where(line => Regex.IsMatch(line, @"\(\d+,\d+\)\s*:\s*Error\b", RegexOptions.CultureInvariant)).ToList();

    public override string ToString() =>
        $"bicep {Arguments} exited {ExitCode}\n--- stderr ---\n{StdErr}\n--- stdout (first 2000 chars) ---\n{(StdOut.Length > 2000 ? StdOut[..2000] : StdOut)}";
}

/// <summary>Runs the bicep executable from the restored Azure.Bicep.CommandLine.linux-x64 package.</summary>
public sealed class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public string ExecutablePath { get; }

    private BicepCli(string executablePath) => ExecutablePath = executablePath;

    /// <summary>Finds bicep through the package folder the project file stamped into this assembly.</summary>
    public static BicepCli FromRestoredPackage()
    {
        var packageRoot = typeof(BicepCli).Assembly
            .GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "BicepPackageRoot")?.Value;
        if (string.IsNullOrWhiteSpace(packageRoot))
        {
            throw new InvalidOperationException(
                "The BicepPackageRoot assembly metadata is empty: restore did not generate $(PkgAzure_Bicep_CommandLine_linux-x64). " +
                "Run 'dotnet restore tests/CrmMetrics.Infra.Tests' and rebuild.");
        }

        var executable = Path.Combine(packageRoot, "tools", "bicep");
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException(
                $"No bicep executable at {executable}. The Azure.Bicep.CommandLine.linux-x64 package ships a linux-x64 binary only; " +
                $"this machine is {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}.", executable);
        }

        EnsureExecutable(executable);
        return new BicepCli(executable);
    }

    // NuGet extracts package files without guaranteeing the execute bit for the current user.
    private static void EnsureExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & execute) != execute)
        {
            File.SetUnixFileMode(path, mode | execute);
        }
    }

    public BicepResult Run(string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(ExecutablePath)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}.");
        }

        process.WaitForExit();
        return new BicepResult(string.Join(' ', arguments), process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
