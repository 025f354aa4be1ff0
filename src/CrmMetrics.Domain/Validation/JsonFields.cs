using System.Globalization;
using System.Text.Json;

namespace CrmMetrics.Domain.Validation;

/// <summary>
/// Reads typed members from a JSON object and records a field-named error for each member that is
/// missing or of the wrong type. Absent and <c>null</c> are treated alike for optional members.
/// </summary>
/// <param name="self">What the object is called in errors about itself at the top (nested objects are called by their path).</param>
public readonly struct JsonFields(JsonElement obj, ValidationErrors errors, string prefix = "", string self = "body")
{
    public ValidationErrors Errors => errors;


    public string Path(string name) => prefix.Length == 0 ? name : prefix + "." + name;

    public bool TryGet(string name, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object)
        {
            bool found, repeats;
            try
            {
                found = obj.TryGetProperty(name, out value);
                repeats = found && Repeats(name);
            }
            catch (InvalidOperationException)
            {
                // Looking a member up decodes the names it passes, and one that holds no text (a lone
                // surrogate escape, bytes that are not UTF-8) throws: an error of the object's own, and the
                // member asked for is found by passing over such names one by one.
                var key = prefix.Length == 0 ? self : prefix;
                if (!errors.Has(key)) errors.Add(key, "has a member whose name is not valid text: it holds a lone surrogate escape (\\ud800–\\udfff) or bytes that are not UTF-8");
                (found, repeats, value) = FindPassingBrokenNames(name);
            }
            // A member read here and given twice is an error of its own: JSON readers disagree on
            // which one counts. (Members nobody reads are ignored, repeated or not.)
            if (repeats && !errors.Has(Path(name))) errors.Add(Path(name), "appears more than once: give each member once");
            if (found && value.ValueKind != JsonValueKind.Null) return true;
        }
        value = default;
        return false;
    }

    private (bool Found, bool Repeats, JsonElement Value) FindPassingBrokenNames(string name)
    {
        var (count, value) = (0, default(JsonElement));
        foreach (var member in obj.EnumerateObject())
        {
            bool matches;
            try
            {
                matches = member.NameEquals(name);
            }
            catch (InvalidOperationException)
            {
                continue;
            }
            if (!matches) continue;
            count++;
            value = member.Value;
        }
        return (count > 0, count > 1, value);
    }

    private bool Repeats(string name)
    {
        var seen = false;
        foreach (var member in obj.EnumerateObject())
        {
            if (!member.NameEquals(name)) continue;
            if (seen) return true;
            seen = true;
        }
        return false;
    }

    public bool Has(string name) => TryGet(name, out _);

    /// <summary>
    /// A member that repeats the id in the address (a document read with GET carries it, so one sent back
    /// is taken): absent, or that same id. Another id is an error rather than ignored (found by a contract
    /// probe: a goal sent to /goals/a with "goalId": "b" was saved as 'a' without a word).
    /// </summary>
    public void SameAsAddress(string name, string id) =>
        String(name, false, s => s == id ? null : $"is '{Truncate(s)}', but the address names '{Truncate(id)}': a definition's id is the one in its address (leave this out, or send the same)");

    /// <summary>
    /// Refuses the members that misspell one of <paramref name="members"/> (<c>perod</c>, <c>Measure</c>,
    /// <c>treshold</c>; see <see cref="MemberNames"/>): other unknown members are ignored, but a misspelt
    /// one would leave out what the writer meant and change the document's meaning without a word.
    /// </summary>
    public void RefuseMisspelt(IReadOnlyCollection<string> members, string what)
    {
        if (obj.ValueKind != JsonValueKind.Object) return;
        foreach (var member in obj.EnumerateObject())
        {
            string name;
            try
            {
                name = member.Name;
            }
            catch (InvalidOperationException)
            {
                continue;
            }
            if (MemberNames.Misspelt(name, members) is { } meant) errors.Add(Path(Truncate(name)), $"is not a member of {what}; did you mean {meant}?");
        }
    }

    /// <summary>
    /// A name people read (a goal's, a plan's, an indicator's): 1–200 characters, no control
    /// characters, and something visible: not only spaces and invisible format characters (zero-width
    /// joiners, which Persian uses between letters, alone show nothing).
    /// </summary>
    public string? DisplayName(string name, bool required) =>
        String(name, required, s => s.Length is < 1 or > 200 || s.Any(char.IsControl) ? "must be 1–200 characters without control characters"
            : Facts.Vocabulary.ShowsNothing(s) ? "must not be only spaces or invisible characters"
            // Names are written into alert text and the page: an embedding or override reorders what follows
            // it (a name could make an alert read otherwise), a line separator splits a message (found by probing).
            // Marks (U+200E, U+200F) and isolates, which mixed Persian and Latin text uses, are kept.
            : s.Any(c => c is >= '\u202A' and <= '\u202E' or '\u2028' or '\u2029') ? "must not contain bidirectional embedding or override characters (U+202A–U+202E) or line and paragraph separators (U+2028, U+2029)"
            : null);

    public string? String(string name, bool required, Func<string, string?>? check = null)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            errors.Add(Path(name), $"must be a string, not {Describe(v)}");
            return null;
        }
        if (Text(v) is not { } s)
        {
            errors.Add(Path(name), NotText);
            return null;
        }
        var problem = check?.Invoke(s);
        if (problem is not null)
        {
            errors.Add(Path(name), problem);
            return null;
        }
        return s;
    }

    /// <summary>What is wrong with a JSON string that holds no text (see <see cref="Text"/>).</summary>
    public const string NotText = "is not valid text: it holds a lone surrogate escape (\\ud800–\\udfff) or bytes that are not UTF-8";

    /// <summary>
    /// A JSON string's text, or null when it has none: a lone surrogate escape, or bytes that are not
    /// UTF-8, which the parser lets through and decoding then refuses.
    /// </summary>
    public static string? Text(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public string? OneOf(string name, bool required, IReadOnlyList<string> allowed) =>
        String(name, required, s => allowed.Contains(s) ? null : $"must be one of {string.Join(", ", allowed)}; got '{Truncate(s)}'");

    public double? Number(string name, bool required, double? min = null, bool minExclusive = false, double? max = null)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d))
        {
            errors.Add(Path(name), $"must be a finite number, not {Describe(v)}");
            return null;
        }
        if (min is { } lo && (minExclusive ? d <= lo : d < lo))
        {
            errors.Add(Path(name), minExclusive ? $"must be greater than {Format(lo)}" : $"must be at least {Format(lo)}");
            return null;
        }
        if (max is { } hi && d > hi)
        {
            errors.Add(Path(name), $"must be at most {Format(hi)}");
            return null;
        }
        return d;
    }

    /// <summary>Money and other exact amounts: read as decimal so cents stay exact.</summary>
    /// <param name="refuseRoundedZero">Refuse a number other than 0 that a decimal rounds to 0 (1e-30), where 0 means something else.</param>
    public decimal? Decimal(string name, bool required, decimal? min = null, bool minExclusive = false, decimal? max = null, bool refuseRoundedZero = false)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            errors.Add(Path(name), $"must be a number, not {Describe(v)}");
            return null;
        }
        if (!v.TryGetDecimal(out var d))
        {
            errors.Add(Path(name), "is out of range");
            return null;
        }
        // A decimal keeps 28 places: 1e-30 reads as 0, which "must be greater than 0" would misreport. Where 0
        // itself is allowed, the rounded 0 is simply taken, unless 0 means something else.
        if (d == 0 && v.TryGetDouble(out var approximate) && (refuseRoundedZero ? approximate != 0 : minExclusive && min == 0 && approximate > 0))
        {
            errors.Add(Path(name), $"is too small to keep exactly ({Truncate(v.GetRawText())}); amounts keep at most 28 decimal places");
            return null;
        }
        if (min is { } lo && (minExclusive ? d <= lo : d < lo))
        {
            errors.Add(Path(name), minExclusive ? $"must be greater than {lo.ToString(CultureInfo.InvariantCulture)}" : $"must be at least {lo.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        if (max is { } hi && d > hi)
        {
            errors.Add(Path(name), $"must be at most {hi.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return d;
    }

    public int? Integer(string name, bool required, int min, int max)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d) || Math.Floor(d) != d)
        {
            errors.Add(Path(name), $"must be an integer, not {Describe(v)}");
            return null;
        }
        if (d < min || d > max)
        {
            errors.Add(Path(name), $"must be between {min} and {max}; got {Format(d)}");
            return null;
        }
        return (int)d;
    }

    public bool? Boolean(string name, bool required)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return null;
        }
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add(Path(name), $"must be true or false, not {Describe(v)}");
            return null;
        }
        return v.GetBoolean();
    }

    /// <summary>A nested object member; absent gives an empty object so its required members report as missing.</summary>
    public JsonFields Object(string name, bool required)
    {
        if (!TryGet(name, out var v))
        {
            if (required) errors.Add(Path(name), "is required");
            return new JsonFields(default, errors, Path(name));
        }
        if (v.ValueKind != JsonValueKind.Object)
        {
            errors.Add(Path(name), $"must be an object, not {Describe(v)}");
            return new JsonFields(default, new ValidationErrors(), Path(name));
        }
        return new JsonFields(v, errors, Path(name));
    }

    /// <summary>
    /// An array of objects, each with its path (<c>tiers[1]</c>) for the fields read from it. A missing
    /// (when required), non-array or empty (when required) member and every item that is not an object
    /// is an error; <paramref name="complete"/> says whether every item could be read.
    /// </summary>
    public IReadOnlyList<(JsonElement Item, string Path)> Objects(string name, bool required, out bool complete)
    {
        complete = false;
        if (!TryGet(name, out var value))
        {
            if (required) errors.Add(Path(name), "is required");
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(Path(name), $"must be an array, not {Describe(value)}");
            return [];
        }
        var at = Path(name);
        var items = value.EnumerateArray().Select((v, i) => (Item: v, Path: $"{at}[{i}]")).ToList();
        if (required && items.Count == 0) errors.Add(at, "must not be empty");
        foreach (var (_, path) in items.Where(x => x.Item.ValueKind != JsonValueKind.Object)) errors.Add(path, "must be an object");
        complete = items.All(x => x.Item.ValueKind == JsonValueKind.Object);
        return items.Where(x => x.Item.ValueKind == JsonValueKind.Object).ToList();
    }

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"{Truncate(v.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    public static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string Format(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
}
