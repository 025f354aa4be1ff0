using System.Globalization;

namespace CrmMetrics.Bench;

/// <summary>
/// Peak resident set (VmHWM) of a process since the last <see cref="Reset"/>: Linux resets the peak
/// when 5 is written to the process's clear_refs, so each figure gets the peak of its own phase.
/// </summary>
public sealed class PeakMemory(int processId)
{
    public PeakMemory() : this(Environment.ProcessId)
    {
    }

    public void Reset()
    {
        try
        {
            File.WriteAllText($"/proc/{processId}/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: the peak then runs from the process's start.
        }
    }

    /// <summary>Peak resident set since the last reset, in bytes.</summary>
    public long Peak => Read("VmHWM");

    public long Current => Read("VmRSS");

    public static string MiB(long bytes) => (bytes / 1048576.0).ToString("0", CultureInfo.InvariantCulture);

    private long Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
