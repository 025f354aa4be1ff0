using System.Security.Cryptography;
using System.Text;
using CrmMetrics.Domain.Validation;

namespace CrmMetrics.Functions.Security;

public enum Role { Reader, Writer, Admin }

/// <summary>
/// One configured API key: <c>CrmMetrics:Keys:&lt;name&gt; = &lt;role&gt;:&lt;sha256 hex&gt;</c>.
/// Only the hash is ever held; a presented key is hashed and compared in constant time.
/// </summary>
public sealed record ApiKey(string Name, Role Role, byte[] Hash)
{
    public static IReadOnlyList<ApiKey> LoadAll(IConfigurationSection section, ValidationErrors errors)
    {
        var keys = new List<ApiKey>();
        // "CrmMetrics:Keys=reader:…" (no key name) sits on the section itself and would be ignored without a word.
        if (!string.IsNullOrWhiteSpace(section.Value))
            errors.Add("CrmMetrics:Keys", "needs a key name: CrmMetrics:Keys:<name> (CrmMetrics__Keys__<name> in the environment) = '<role>:<sha256 hex>'");
        foreach (var child in section.GetChildren())
        {
            var field = $"CrmMetrics:Keys:{child.Key}";
            // Blank: unset, as every setting (clearing a key's value in the portal revokes it).
            if (string.IsNullOrWhiteSpace(child.Value) && !child.GetChildren().Any()) continue;
            var parts = (child.Value ?? "").Split(':', 2);
            if (parts.Length != 2 || !TryParseRole(parts[0], out var role))
            {
                errors.Add(field, "must be '<role>:<sha256 hex>' with role reader, writer or admin");
                continue;
            }
            if (parts[1].Length != 64 || !parts[1].All(Uri.IsHexDigit))
            {
                errors.Add(field, "the hash must be 64 hexadecimal characters (the SHA-256 of the key)");
                continue;
            }
            var hash = Convert.FromHexString(parts[1]);
            // One key under two names would take whichever role the lookup meets first: least privilege needs one role per key.
            if (keys.FirstOrDefault(k => k.Hash.AsSpan().SequenceEqual(hash)) is { } same)
            {
                errors.Add(field, $"has the same key hash as CrmMetrics:Keys:{same.Name}; give each name a key of its own");
                continue;
            }
            keys.Add(new ApiKey(child.Key, role, hash));
        }
        return keys;
    }

    public static bool TryParseRole(string text, out Role role)
    {
        switch (text)
        {
            case "reader": role = Role.Reader; return true;
            case "writer": role = Role.Writer; return true;
            case "admin": role = Role.Admin; return true;
            default: role = default; return false;
        }
    }

    public static string HashHex(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Whether a key of this role may use a route that needs <paramref name="required"/>.</summary>
    public bool Grants(Role required) => Role == Role.Admin || Role == required;
}
