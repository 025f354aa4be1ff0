using System.Text.Json;
using CrmMetrics.Samples;

namespace CrmMetrics.Bench;

/// <summary>Writes the sample dataset to <c>seeds/</c> as NDJSON files of at most 2,000 events (each one POST).</summary>
public static class SeedsCommand
{
    public static int Run(string root)
    {
        var folder = Path.Combine(root, "seeds");
        Directory.CreateDirectory(folder);
        foreach (var old in Directory.GetFiles(folder, "*.ndjson")) File.Delete(old);
        var events = SyntheticCrm.Generate(new SyntheticCrmOptions()).ToList();
        var part = 0;
        foreach (var chunk in events.Chunk(2000))
        {
            var path = Path.Combine(folder, $"events-{++part:D2}.ndjson");
            File.WriteAllLines(path, chunk.Select(e => e.ToJsonString()));
        }
        var types = events.GroupBy(e => e["type"]!.GetValue<string>()).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"Wrote {events.Count} events in {part} files to {folder}: {string.Join(", ", types)}");
        return 0;
    }
}
