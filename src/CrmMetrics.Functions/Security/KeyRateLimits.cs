using System.Threading.RateLimiting;
using CrmMetrics.Functions.Hosting;

namespace CrmMetrics.Functions.Security;

/// <summary>What a request spends: ingestion (writer operations) or reads.</summary>
public enum RateClass { Ingest, Read }

/// <summary>
/// Per-key rate limits (token buckets: a sustained rate per second and a burst), so one misbehaving
/// client cannot starve the others or run up the storage bill. Limits hold per app instance; with
/// n instances a key gets up to n times its rate.
/// </summary>
public sealed class KeyRateLimits(CrmMetricsSettings settings) : IDisposable
{
    private readonly PartitionedRateLimiter<(string Key, RateClass Class)> _limiter = PartitionedRateLimiter.Create<(string Key, RateClass Class), (string, RateClass)>(
        request =>
        {
            var limit = request.Class == RateClass.Ingest ? settings.RateLimits.Ingest : settings.RateLimits.Reads;
            return limit.PerSecond <= 0
                ? RateLimitPartition.GetNoLimiter(request)
                : RateLimitPartition.GetTokenBucketLimiter(request, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.Burst,
                    TokensPerPeriod = limit.PerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
        });

    /// <summary>Null when the request may go on; otherwise how long the key should wait.</summary>
    public TimeSpan? TryAcquire(ApiKey key, RateClass rateClass)
    {
        using var lease = _limiter.AttemptAcquire((key.Name, rateClass));
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public IResult TooMany(ApiKey key, RateClass rateClass, TimeSpan retryAfter, HttpContext context)
    {
        var limit = rateClass == RateClass.Ingest ? settings.RateLimits.Ingest : settings.RateLimits.Reads;
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Problem(429, "Too Many Requests",
            $"The key '{key.Name}' is over its {(rateClass == RateClass.Ingest ? "ingestion" : "read")} limit ({limit.PerSecond} requests a second, bursts of {limit.Burst}); retry after {seconds} s.");
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>One limit: a sustained rate per second and a burst; a rate of 0 means no limit.</summary>
public sealed record RateLimit(int PerSecond, int Burst);

/// <summary>The per-key limits (<c>CrmMetrics:RateLimits</c>).</summary>
public sealed record RateLimits(RateLimit Ingest, RateLimit Reads)
{
    public static readonly RateLimits Defaults = new(new RateLimit(10, 50), new RateLimit(50, 200));
}
