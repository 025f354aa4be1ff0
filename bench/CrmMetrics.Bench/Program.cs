using CrmMetrics.Bench;

var root = BenchEnvironment.RepositoryRoot();
var command = args.FirstOrDefault() ?? "help";
if (command is "help" or "--help" or "-h") return Help(0);
// Every benchmark takes numbers only (calculator's scale may have a fraction): say which argument is not one, before anything starts.
if (args.Skip(1).FirstOrDefault(a => !double.TryParse(a, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0
        || (command != "calculator" && !int.TryParse(a, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))) is { } bad)
{
    Console.Error.WriteLine($"'{bad}' is not a {(command == "calculator" ? "positive number" : "positive whole number")}: {command} takes the numbers shown below.");
    return Help(2);
}
return command switch
{
    "seeds" => SeedsCommand.Run(root),
    "ingest" => await IngestBenchmark.RunAsync(args.Skip(1).ToArray()),
    "aggregate" => await AggregateBenchmark.RunAsync(args.Skip(1).ToArray()),
    "finalize" => await FinalizeBenchmark.RunAsync(args.Skip(1).ToArray()),
    "calculator" => await CalculatorBenchmark.RunAsync(args.Skip(1).ToArray()),
    "reads" => await ReadsBenchmark.RunAsync(args.Skip(1).ToArray()),
    "host" => await HostBenchmark.RunAsync(args.Skip(1).ToArray()),
    "chaos" => await ChaosBenchmark.RunAsync(args.Skip(1).ToArray()),
    "ingest-phases" => await IngestPhases.RunAsync(args.Skip(1).ToArray()),
    "storage-costs" => await StorageCosts.RunAsync(args.Skip(1).ToArray()),
    _ => Unknown(command),
};

static int Unknown(string command)
{
    Console.Error.WriteLine($"There is no benchmark '{command}'.");
    return Help(2);
}

static int Help(int exitCode)
{
    Console.WriteLine("""
        CrmMetrics benchmarks — each prints its figures and ratios in one run.

          dotnet run -c Release --project bench/CrmMetrics.Bench -- ingest [events=200000]
              HTTP ingestion path vs a bare Azure.Data.Tables loop (100-entity batches, same parallelism)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- ingest-phases [events=50000]
              where ingestion's CPU goes: each store step in-process, Azurite and client CPU, storage requests by kind (a diagnostic, no aim)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- storage-costs [claims=200000]
              Azurite and client CPU per request, per transaction size and per append-blob block; claims over 64 vs 736 partitions (a diagnostic, no aim)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- aggregate [facts=200000]
              the map step (AggregateDay) over a month vs a bare read of the same days' fact logs,
              and the least any map step does: that read plus one result blob per day
          dotnet run -c Release --project bench/CrmMetrics.Bench -- finalize [100000 1000000]
              period finalisation time at each number of facts in the month (reads partials, so nearly flat)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- calculator [scale=15]
              the in-memory calculator over ~1M facts vs DuckDB SQL over the same rows (same process)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- reads [connections=64] [seconds=15]
              wrk (apt-get install wrk) on the latest-snapshots route vs a bare endpoint serving the same JSON
          dotnet run -c Release --project bench/CrmMetrics.Bench -- host [requests=20000] [messages=2000]
              the local Functions host: cold start, HTTP through host and worker vs a bare server, queue invocations/s vs a bare loop
          dotnet run -c Release --project bench/CrmMetrics.Bench -- chaos [batches=300] [readers=64]
              ingestion, BI reads and scheduled runs while storage is cut off twice and the app killed once
          dotnet run -c Release --project bench/CrmMetrics.Bench -- seeds
              regenerate the sample dataset in seeds/
        """);
    return exitCode;
}
