using System.Collections.Concurrent;

namespace CrmMetrics.LocalHost.Hosting;

/// <summary>
/// The last lines a child process wrote, kept to say why it stopped. Only the last
/// <see cref="Capacity"/> are held, however long the process runs and however much it writes.
/// </summary>
public sealed class LastLines(int capacity = LastLines.DefaultCapacity)
{
    public const int DefaultCapacity = 20;

    private readonly ConcurrentQueue<string> _lines = new();

    public int Capacity => capacity;

    /// <summary>How many lines are held now (never more than <see cref="Capacity"/> once a writer's add has returned).</summary>
    public int Count => _lines.Count;

    public void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > capacity) _lines.TryDequeue(out _);
    }

    /// <summary>The last <paramref name="count"/> lines held, oldest first, joined with <paramref name="separator"/>.</summary>
    public string Tail(int count, string separator) => string.Join(separator, _lines.ToArray().TakeLast(count));

    public override string ToString() => Tail(capacity, Environment.NewLine);
}
