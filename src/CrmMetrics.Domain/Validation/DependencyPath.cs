namespace CrmMetrics.Domain.Validation;

/// <summary>Finds how one definition reaches another through what each names (goal parts, expression operands), so a cycle can be refused naming its links.</summary>
public static class DependencyPath
{
    /// <summary>The chain from <paramref name="from"/> to <paramref name="target"/> (both included) following <paramref name="next"/>, or null when there is none.</summary>
    public static IReadOnlyList<string>? Find(string from, string target, Func<string, IEnumerable<string>> next)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? Search(string current)
        {
            if (current == target) return [current];
            if (!seen.Add(current)) return null;
            foreach (var following in next(current))
            {
                if (Search(following) is { } rest) return rest.Prepend(current).ToList();
            }
            return null;
        }
        return Search(from);
    }
}
