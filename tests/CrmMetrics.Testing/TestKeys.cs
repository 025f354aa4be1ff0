using System.Security.Cryptography;
using System.Text;

namespace CrmMetrics.Testing;

/// <summary>API keys the tests configure (as hashes, like production) and present (as plain text).</summary>
public static class TestKeys
{
    public const string Reader = "test-reader-key";
    public const string Writer = "test-writer-key";
    public const string Admin = "test-admin-key";

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static IEnumerable<KeyValuePair<string, string?>> Settings() =>
    [
        new("CrmMetrics:Keys:bi", "reader:" + Hash(Reader)),
        new("CrmMetrics:Keys:crm", "writer:" + Hash(Writer)),
        new("CrmMetrics:Keys:ops", "admin:" + Hash(Admin)),
    ];
}
