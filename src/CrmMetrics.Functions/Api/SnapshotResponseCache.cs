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
    private readonly MemoryCache _latest = new(new MemoryCacheOptions());

    /// <summary>
    /// How long this instance trusts its copy of a period's latest version. A finalisation here
    /// invalidates it at once; one on another instance is seen within this time.
    /// </summary>
    public static readonly TimeSpan LatestTtl = TimeSpan.FromSeconds(2);

    public async Task<T?> LatestAsync<T>(string period, Func<Task<T?>> load) where T : class
    {
        // One read per period and interval, shared by every request that arrives meanwhile.
        var shared = _latest.GetOrCreate(period, entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = LatestTtl;
            return load();
        })!;
        try
        {
            return await shared;
        }
        catch
        {
            _latest.Remove(period);
            throw;
        }
    }

    public void Invalidate(string period) => _latest.Remove(period);

    public sealed record Entry(string ETag, byte[] Body, string ContentType, string? ContinuationToken);

    public static string ETagFor(string versionKey, string request) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(versionKey + "\n" + request)))[..32] + "\"";

    public Entry? Get(string etag) => _cache.TryGetValue(etag, out Entry? entry) ? entry : null;

    public void Put(Entry entry) =>
        _cache.Set(entry.ETag, entry, new MemoryCacheEntryOptions { Size = entry.Body.Length + 256, SlidingExpiration = TimeSpan.FromMinutes(30) });
}
