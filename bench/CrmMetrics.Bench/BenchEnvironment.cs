using System.Diagnostics;

namespace CrmMetrics.Bench;

public static class BenchEnvironment
{
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) return dir.FullName;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CrmMetrics.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Run the benchmarks from the repository.");
    }

    public static void PrintMachine()
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {(Debugger.IsAttached ? "debugger" : "no debugger")}, " +
                          $"{(typeof(BenchEnvironment).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is [DebuggableAttribute { IsJITOptimizerDisabled: true }] ? "DEBUG build (use -c Release)" : "optimised build")}");
    }
}
