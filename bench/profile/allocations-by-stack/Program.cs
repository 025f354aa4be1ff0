// Groups the allocation samples of a `dotnet-trace collect --profile gc-verbose` trace (one
// AllocationTick event about every 100 KB allocated) by type, by the first CrmMetrics frame on the
// stack, and by type and stack. The figures are sampled: proportions, not exact bytes.
//
//   dotnet run -c Release --project bench/profile/allocations-by-stack -- trace.nettrace [rows=25]
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length is < 1 or > 2 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: allocations-by-stack <trace.nettrace> [rows]");
    return 2;
}
var rows = args.Length == 2 && int.TryParse(args[1], out var n) && n > 0 ? n : 25;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byFrame = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
foreach (var traced in log.Events)
{
    if (traced is not GCAllocationTickTraceData allocation) continue;
    var bytes = allocation.AllocationAmount64;
    total += bytes;
    var type = allocation.TypeName + (allocation.AllocationKind == GCAllocationKind.Large ? " [LOH]" : "");
    var frames = new List<string>();
    for (var frame = allocation.CallStack(); frame is not null && frames.Count < 40; frame = frame.Caller) frames.Add(frame.CodeAddress.FullMethodName ?? "?");
    Add(byType, type, bytes);
    Add(byFrame, frames.FirstOrDefault(f => f.StartsWith("CrmMetrics", StringComparison.Ordinal)) ?? "(no CrmMetrics frame)", bytes);
    Add(byStack, type + " @ " + string.Join(" < ", frames.Where(f => f.StartsWith("CrmMetrics", StringComparison.Ordinal) || f.StartsWith("Azure", StringComparison.Ordinal)).Take(4)), bytes);
}
Console.WriteLine($"sampled allocations: {total / 1048576.0:0.0} MiB");
Print("by type", byType);
Print("by first CrmMetrics frame", byFrame);
Print("by type and stack (CrmMetrics and Azure frames, innermost first)", byStack);
return 0;

static void Add(Dictionary<string, long> sums, string key, long bytes) => sums[key] = sums.GetValueOrDefault(key) + bytes;

void Print(string title, Dictionary<string, long> sums)
{
    Console.WriteLine($"--- {title}");
    foreach (var (key, bytes) in sums.OrderByDescending(s => s.Value).Take(rows)) Console.WriteLine($"{bytes / 1048576.0,9:0.0} MiB  {key[..Math.Min(key.Length, 400)]}");
}
