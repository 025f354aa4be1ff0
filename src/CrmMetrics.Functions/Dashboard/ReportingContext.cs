using Microsoft.Extensions.Caching.Memory;
using System.Globalization;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Alerts;
using CrmMetrics.Domain.Indicators;
using CrmMetrics.Domain.Periods;
using CrmMetrics.Functions.Hosting;
using CrmMetrics.Functions.Runs;
using CrmMetrics.Storage.Snapshots;
using System.Text.Json.Serialization;

namespace CrmMetrics.Functions.Dashboard;

/// <summary>A text in the two languages the product speaks.</summary>
public sealed record LocalText(string En, string Fa);

/// <summary>
/// A period of a grain: its key, its name, its bounds, whether it is over, whether a run has computed it,
/// and whether facts that change it arrived since (<c>stale</c>: a day of it waits to be aggregated
/// again, or an aggregated day changed what it counts; the next run that finalises it brings it up to date).
/// <c>calendarChange</c>, only on a period not computed under the calendar now, says why its figures computed under
/// the one before are not served (<see cref="SnapshotReader.CalendarChange"/>).
/// </summary>
public sealed record PeriodEntry(string Key, LocalText Label, DateTimeOffset Start, DateTimeOffset End, bool Closed, bool Computed, bool Stale,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CalendarChange = null);

/// <summary>A grain: the current period, the one to open first, and its periods oldest first.</summary>
public sealed record GrainEntry(string Grain, LocalText Name, string Current, string Default, bool Configured, IReadOnlyList<PeriodEntry> Periods);

/// <summary>An indicator of the catalog with its names for people.</summary>
public sealed record IndicatorEntry(string Id, string Family, string Unit, string Direction, string Kind, bool Additive, LocalText Name, string Description);

/// <summary>The response of <c>GET /api/reporting-context</c>.</summary>
/// <remarks><see cref="Scopes"/>: the scopes (org, channel:, segment:, region:, staff:) of the latest computed periods of the default grain (up to a trend's length of them).</remarks>
public sealed record ReportingContext(string Deployment, string Calendar, string CalendarKind, string TimeZone, string Currency,
    string DefaultGrain, IReadOnlyList<GrainEntry> Grains, IReadOnlyList<IndicatorEntry> Indicators, IReadOnlyList<string> Scopes);

/// <summary>
/// Builds the <see cref="ReportingContext"/> from the settings, the catalog and the snapshot version
/// pointers (one small partition read per grain) and one indicator's rows of the latest period.
/// </summary>
public sealed class ReportingContextBuilder(SnapshotStore snapshots, Storage.Settings.DerivedIndicatorStore derived,
    Storage.Facts.DirtyDayStore dirtyDays, Storage.Runs.StalePeriodStore stalePeriods, CrmMetricsSettings settings, TimeProvider clock)
{
    /// <summary>
    /// Periods listed per grain, back from the current one: enough for a year and more of days, every
    /// week, month, quarter and year a deployment has. Computed periods older than that are added too.
    /// </summary>
    public const int MaxPeriods = 400;

    /// <summary>The trend's length: the periods before the current one are listed even when nothing is computed.</summary>
    public const int TrendPeriods = 12;

    private const string ScopeIndicator = "com.orders";

    /// <summary>
    /// The scopes of each period version read so far (a version's rows never change once written), so the context
    /// reads only the version pointers, the marks and the definitions again (found by a soak: with some 700 computed
    /// periods on Azurite, the dashboard's first request took 4.5 s at the median, reading 12 periods' rows each time).
    /// </summary>
    private readonly MemoryCache _scopes = new(new MemoryCacheOptions { SizeLimit = 4096 });

    public async Task<ReportingContext> BuildAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var text = new AlertText(settings.Calendar.Calendar, settings.ReportingCurrency);
        // What waits to be brought up to date, read beside the version pointers: periods marked stale, and the dirty days.
        var staleRead = Concurrently.Started(() => stalePeriods.ListAsync(ct));
        var dirtyRead = Concurrently.Started(() => dirtyDays.ListAsync(ct));
        // Keys computed under the calendar now, and those computed under another in which they named other days, with why they are not served.
        var pointers = await Task.WhenAll(Grains.All.Select(async grain =>
        {
            var keys = new Dictionary<string, LatestSnapshot>(StringComparer.Ordinal);
            var moved = new Dictionary<string, string>(StringComparer.Ordinal);
            await foreach (var latest in snapshots.LatestOfGrainAsync(grain, null, null, ct))
            {
                if (SnapshotReader.CalendarChange(latest, settings.Calendar) is { } why) moved[latest.Period] = why;
                else keys[latest.Period] = latest;
            }
            return (Keys: keys, Moved: moved);
        }));

        var staleKeys = (await staleRead).Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var dirty = (await dirtyRead).Select(d => d.Day).Order().ToList();
        bool HoldsDirtyDay(Period p)
        {
            var at = dirty.BinarySearch(p.FirstDay);
            return at >= 0 || (~at < dirty.Count && dirty[~at] <= p.LastDay);
        }

        var grains = new List<(Grain Grain, GrainEntry Entry)>();
        foreach (var (grain, (keys, moved)) in Grains.All.Zip(pointers))
        {
            var configured = settings.Grains.Contains(grain);
            if (!configured && keys.Count == 0) continue;
            var periods = Periods(grain, keys.Keys.ToHashSet(StringComparer.Ordinal), now).Select(p => new PeriodEntry(p.Key, new LocalText(Capitalised(text.Period(p.Key, false)), text.Period(p.Key, true)),
                p.Start, p.End, p.End <= now, keys.ContainsKey(p.Key), keys.ContainsKey(p.Key) && (staleKeys.Contains(p.Key) || HoldsDirtyDay(p)),
                moved.GetValueOrDefault(p.Key))).ToList();
            var current = settings.Calendar.PeriodOf(grain, now);
            // Open the latest finished period that has figures; else the latest with figures; else the one just finished.
            var preferred = periods.LastOrDefault(p => p.Computed && p.Closed) ?? periods.LastOrDefault(p => p.Computed);
            grains.Add((grain, new GrainEntry(Grains.Key(grain), new LocalText(Capitalised(text.Grain(grain, false, false)), text.Grain(grain, true, false)),
                current.Key, preferred?.Key ?? current.Previous().Key, configured, periods)));
        }

        // Months when they have figures (what executives review), else the first grain that has any.
        var (defaultGrain, defaultEntry) = grains.FirstOrDefault(g => g.Grain == Grain.Month && g.Entry.Periods.Any(p => p.Computed)) is { Entry: not null } month ? month
            : grains.FirstOrDefault(g => g.Entry.Periods.Any(p => p.Computed)) is { Entry: not null } any ? any
            : grains.FirstOrDefault(g => g.Grain == Grain.Month) is { Entry: not null } configuredMonth ? configuredMonth : grains[0];

        // Every base indicator has a row in every scope the period's facts carry, so one indicator's rows name them all.
        // The scopes of the latest computed periods (a trend's length) together: a month just begun, or one
        // without facts, must not take the channels and staff of the months before it off the list (found by probing).
        var recent = defaultEntry.Periods.Where(p => p.Computed).TakeLast(TrendPeriods).ToList();
        var defaultPointers = Grains.All.Zip(pointers).Single(g => g.First == defaultGrain).Second.Keys;
        var scopeLists = await Task.WhenAll(recent.Select(p => ScopesOfAsync(defaultPointers[p.Key], ct)));
        var scopes = new List<string> { Scope.Org };
        scopes.AddRange(scopeLists.SelectMany(list => list).Where(s => s != Scope.Org).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

        var indicators = IndicatorCatalog.All.Where(i => !i.IsPattern).Select(i => new IndicatorEntry(i.Id, i.Family, i.Unit,
            i.Direction == Direction.Higher ? "higher" : "lower", i.Kind == IndicatorKind.External ? "external" : "internal", i.Additive,
            new LocalText(Capitalised(IndicatorCatalog.NameOf(i.Id)), IndicatorCatalog.NameOf(i.Id, persian: true)), i.Description)).ToList();
        // The derived indicators defined now, under the names their definitions give.
        indicators.AddRange((await derived.ListAsync(ct)).OrderBy(d => d.Id, StringComparer.Ordinal).Select(d => new IndicatorEntry(d.Id, Families.Derived, d.Unit,
            d.Direction == Direction.Higher ? "higher" : "lower", d.Kind == IndicatorKind.External ? "external" : "internal", false,
            new LocalText(d.Name, d.NameFa ?? d.Name), d.Description ?? d.Expression)));
        return new ReportingContext(settings.DeploymentName, settings.Calendar.Calendar.Setting, settings.Calendar.Calendar.Kind.ToString().ToLowerInvariant(),
            settings.Calendar.TimeZone.Id, settings.ReportingCurrency, defaultEntry.Grain, grains.Select(g => g.Entry).ToList(), indicators, scopes);
    }

    /// <summary>The scopes a period version's rows of <see cref="ScopeIndicator"/> name: read once per version, shared by the requests meanwhile.</summary>
    private async Task<IReadOnlyList<string>> ScopesOfAsync(LatestSnapshot version, CancellationToken ct)
    {
        var key = $"{Grains.Key(version.Grain)}|{version.Period}|{version.Version}|{version.Attempt}";
        var shared = _scopes.GetOrCreate(key, entry =>
        {
            entry.Size = 1;
            // Not the request's token: the read is shared, and must not end with the request that began it.
            return ReadScopesAsync(version);
        })!;
        try
        {
            return await shared.WaitAsync(ct);
        }
        catch when (shared.IsFaulted)
        {
            _scopes.Remove(key);
            throw;
        }
    }

    private async Task<IReadOnlyList<string>> ReadScopesAsync(LatestSnapshot version) =>
        (await snapshots.ReadVersionAsync(version.Grain, version.Period, version.Version, version.Attempt, new SnapshotFilter(Indicator: ScopeIndicator), CancellationToken.None))
            .Select(r => r.Scope).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The grain's periods oldest first: back from the current one to the earliest computed (at least
    /// <see cref="TrendPeriods"/>, at most <see cref="MaxPeriods"/>), then any older computed ones.
    /// </summary>
    private List<Period> Periods(Grain grain, IReadOnlySet<string> computed, DateTimeOffset now)
    {
        var calendar = settings.Calendar;
        // Keys stored under another calendar (the README lets it change) may read as periods of this one
        // centuries away, which every read refuses: those are left out, not offered.
        var parsed = computed.Select(k => calendar.TryParse(k, grain, out var p, out _) && PeriodReach.Problem(calendar, p, k, now) is null ? p : null)
            .Where(p => p is not null).Select(p => p!).ToList();
        var current = calendar.PeriodOf(grain, now);
        var earliest = parsed.Count == 0 ? current.Start : parsed.Min(p => p.Start);
        var list = new List<Period>();
        // Computed periods after the current one (a year goal's year, set ahead) come first in this backwards walk.
        list.AddRange(parsed.Where(p => p.Start > current.Start).OrderByDescending(p => p.Start));
        for (var p = current; list.Count < MaxPeriods; p = p.Previous())
        {
            list.Add(p);
            if (p.Start <= earliest && list.Count >= TrendPeriods) break;
        }
        var listed = list.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        list.AddRange(parsed.Where(p => !listed.Contains(p.Key)));
        return list.OrderBy(p => p.Start).ToList();
    }

    private static string Capitalised(string text) =>
        text.Length == 0 ? text : char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..];
}
