using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// The continuation tokens of the API's listings: where a listing goes on, as a cursor record written as Base64Url JSON,
/// and a fingerprint of the query that chose its items, so a token sent with other filters is refused rather than
/// skipping items silently.
/// </summary>
internal static class PageTokens
{
    public static string Encode<T>(T cursor) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(cursor));

    /// <summary>The cursor a token holds, or null when it is none this API gave out (its shape is checked by the caller).</summary>
    public static T? TryDecode<T>(string token) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Base64Url.DecodeFromChars(token));
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>What chooses a listing's items (not its page size), hashed to 16 hex digits: the same for every page of one listing.</summary>
    public static string Fingerprint(params string?[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts.Select(p => p ?? "")))).AsSpan(0, 8));

    /// <summary>An instant as a fingerprint part.</summary>
    public static string? Part(DateTimeOffset? instant) => instant?.UtcTicks.ToString(CultureInfo.InvariantCulture);
}
