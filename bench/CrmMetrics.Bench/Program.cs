using CrmMetrics.Bench;

var root = BenchEnvironment.RepositoryRoot();
var command = args.FirstOrDefault() ?? "help";
return command switch
{
    "seeds" => SeedsCommand.Run(root),
    "ingest" => await IngestBenchmark.RunAsync(args.Skip(1).ToArray()),
    _ => Help(),
};

static int Help()
{
    Console.WriteLine("""
        CrmMetrics benchmarks — each prints its figures and ratios in one run.

          dotnet run -c Release --project bench/CrmMetrics.Bench -- ingest [events=200000]
              HTTP ingestion path vs a bare Azure.Data.Tables loop (100-entity batches, same parallelism)
          dotnet run -c Release --project bench/CrmMetrics.Bench -- seeds
              regenerate the sample dataset in seeds/
        """);
    return 1;
}
