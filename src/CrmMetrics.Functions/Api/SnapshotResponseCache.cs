using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;

namespace CrmMetrics.Functions.Api;

/// <summary>
/// The responses BI refreshes ask for again and again — one period's latest snapshots — kept ready,
/// keyed by the request and the period's latest version. A run that writes a new version changes the
/// key, so a stale response is never served, on this instance or any other; the ETag is the same key.
/// </summary>
public sealed class SnapshotResponseCache
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 64 * 1024 * 1024 });

    public sealed record Entry(string ETag, byte[] Body, string ContentType, string? ContinuationToken);

    public static string ETagFor(string versionKey, string request) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(versionKey + "\n" + request)))[..32] + "\"";

    public Entry? Get(string etag) => _cache.TryGetValue(etag, out Entry? entry) ? entry : null;

    public void Put(Entry entry) =>
        _cache.Set(entry.ETag, entry, new MemoryCacheEntryOptions { Size = entry.Body.Length + 256, SlidingExpiration = TimeSpan.FromMinutes(30) });
}
