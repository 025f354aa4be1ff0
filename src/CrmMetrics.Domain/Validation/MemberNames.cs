namespace CrmMetrics.Domain.Validation;

/// <summary>
/// Which known member a body's unknown member most likely misspells: the same name in another case, or
/// one a letter left out, added, changed or two swapped away (two such edits for names of 8 letters or
/// more). Names of up to three letters are only matched by case, and shorter ones take one edit only,
/// since a short name is a couple of edits from another word ("goal" from goalId, "grade" from grain).
/// </summary>
public static class MemberNames
{
    public static string? Misspelt(string member, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in known)
        {
            if (string.Equals(member, name, StringComparison.Ordinal)) return null;
            var distance = string.Equals(member, name, StringComparison.OrdinalIgnoreCase) ? 0
                : name.Length <= 3 || member.Length <= 3 ? int.MaxValue
                : Distance(member.ToLowerInvariant(), name.ToLowerInvariant());
            if (distance <= (name.Length >= 8 ? 2 : 1) && distance < bestDistance) (best, bestDistance) = (name, distance);
        }
        return best;
    }

    /// <summary>Edits between two names: insertions, deletions, substitutions and swaps of neighbours (optimal string alignment).</summary>
    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2) return int.MaxValue;
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
