using System.Runtime;

namespace CrmMetrics.Bench;

/// <summary>
/// The collections, pause time and allocations of this process since <see cref="Start"/>, and the GC
/// mode it runs in (set in the project file, as the function app's is; <c>DOTNET_gcConcurrent=1</c>
/// in the environment runs a benchmark with background GC instead, for comparison).
/// </summary>
public sealed class GcActivity
{
    private readonly int[] _collections;
    private readonly TimeSpan _pause;
    private readonly long _allocated;

    private GcActivity()
    {
        _collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        _pause = GC.GetTotalPauseDuration();
        _allocated = GC.GetTotalAllocatedBytes(precise: false);
    }

    public static GcActivity Start() => new();

    /// <summary>Collections of this generation since the start.</summary>
    public int Collections(int generation) => GC.CollectionCount(generation) - _collections[generation];

    /// <summary>Time the process was paused by collections since the start.</summary>
    public TimeSpan Pause => GC.GetTotalPauseDuration() - _pause;

    /// <summary>Bytes this process allocated since the start (all threads; approximate).</summary>
    public long Allocated => GC.GetTotalAllocatedBytes(precise: false) - _allocated;

    /// <summary>One line: collections per generation, pause time, and bytes allocated per item.</summary>
    public string Describe(int items, string item)
    {
        var mode = (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? ", blocking" : ", background");
        var allocated = Allocated;
        return $"GC ({mode}): gen0/gen1/gen2 collections {Collections(0)}/{Collections(1)}/{Collections(2)}, " +
               $"pauses {Pause.TotalSeconds:0.00} s, allocated {allocated / Math.Max(1, items) / 1024.0:0.0} KiB per {item}";
    }
}
