using System.Text.Json;

namespace CrmMetrics.Demo;

/// <summary>
/// Why the sample's events were rejected, counted over every ingestion answer: a setting of the run
/// (another calendar, another reporting currency) can make some of them invalid, and the reason
/// (field and message, as the API gives them) says which.
/// </summary>
public sealed class RejectionReasons
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Counts the first message of each field of each event in an answer's <c>rejected</c>.</summary>
    public void Add(JsonElement answer)
    {
        if (!answer.TryGetProperty("rejected", out var rejected) || rejected.ValueKind != JsonValueKind.Array) return;
        foreach (var item in rejected.EnumerateArray())
        {
            if (!item.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object) continue;
            foreach (var field in errors.EnumerateObject())
            {
                var message = field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray().Select(m => m.ToString()).FirstOrDefault() : null;
                var reason = $"{field.Name} {message}".TrimEnd();
                _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
            }
        }
    }

    /// <summary>The most common reasons first, at most <paramref name="top"/>, and how many others there were.</summary>
    public IReadOnlyList<string> Lines(int top = 3)
    {
        var lines = _counts.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(top)
            .Select(r => $"rejected {r.Value} x: {r.Key}").ToList();
        if (_counts.Count > top) lines.Add($"... and {_counts.Count - top} other reasons (POST /api/events lists each event's)");
        return lines;
    }
}
