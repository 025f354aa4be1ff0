using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Facts;

namespace CrmMetrics.Storage.Tests.Facts;

public class FactLogFormatTests
{
    private static readonly Fact[] Facts =
    [
        new() { Id = "o-1", Type = FactType.Order, Time = DateTimeOffset.Parse("2026-03-01T10:00:00.1234567+03:30"), CustomerId = "C-1", StaffId = "S-1", Channel = "web", Amount = 120.45m, Currency = "EUR", OriginalAmount = 130.00m },
        new() { Id = "i-1", Type = FactType.Interaction, Time = DateTimeOffset.Parse("2026-03-01T11:00:00Z"), CustomerId = "C-1", Direction = "inbound", FirstContactResolution = false, HandleSeconds = 310.5 },
        new() { Id = "a-1", Type = FactType.CustomerAcquired, Time = DateTimeOffset.Parse("2026-03-01T12:00:00-05:00"), CustomerId = "C-2", Segment = "smb", Region = "شمال" },
        new() { Id = "c-1", Type = FactType.CustomerChurned, Time = DateTimeOffset.Parse("2026-03-02T12:00:00Z"), CustomerId = "C-2", Reason = "price" },
        new() { Id = "s-1", Type = FactType.SurveyResponse, Time = DateTimeOffset.Parse("2026-03-02T13:00:00Z"), CustomerId = "C-2", Metric = "nps", Score = 0 },
        new() { Id = "k-1", Type = FactType.ComplaintOpened, Time = DateTimeOffset.Parse("2026-03-02T14:00:00Z"), CaseId = "K/1#?", Severity = "high", SlaHours = 24 },
        new() { Id = "d-1", Type = FactType.DealClosed, Time = DateTimeOffset.Parse("2026-03-02T15:00:00Z"), DealId = "D-1", Outcome = "lost", Competitor = "Acme & Co", Amount = 0m },
        new() { Id = "m-1", Type = FactType.CompetitorObservation, Time = DateTimeOffset.Parse("2026-03-02T16:00:00Z"), Competitor = "Acme", Indicator = "nps", Value = -12.5, PeriodKey = "2026-02" },
    ];

    private static async Task<List<Fact>> ReadAllAsync(IEnumerable<byte[]> blocks)
    {
        using var stream = new MemoryStream(blocks.SelectMany(b => b).ToArray());
        var facts = new List<Fact>();
        await foreach (var fact in FactLogFormat.ReadAsync(stream, default)) facts.Add(fact);
        return facts;
    }

    [Fact]
    public async Task Every_field_round_trips_with_its_offset_and_exact_decimals()
    {
        var read = await ReadAllAsync(FactLogFormat.Blocks(Facts));
        Assert.Equal(Facts, read);
        Assert.Equal(TimeSpan.FromMinutes(210), read[0].Time.Offset);
        Assert.Equal("130.00", read[0].OriginalAmount!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Blocks_stay_under_their_size_limit_and_read_back_in_order()
    {
        var many = Enumerable.Range(0, 500).Select(i => Facts[i % Facts.Length] with { Id = $"f-{i:D4}" }).ToList();
        var blocks = FactLogFormat.Blocks(many, maxBlockBytes: 2048).ToList();
        Assert.True(blocks.Count > 10);
        Assert.All(blocks, b => Assert.True(b.Length <= 2048));
        Assert.Equal(many, await ReadAllAsync(blocks));
    }

    [Fact]
    public async Task A_log_that_ends_inside_a_block_or_holds_something_else_is_reported_corrupt()
    {
        var block = FactLogFormat.Blocks(Facts).Single();
        await Assert.ThrowsAnyAsync<EndOfStreamException>(() => ReadAllAsync([block[..^3]]));
        var garbage = (byte[])block.Clone();
        garbage[0] = (byte)'X';
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync([garbage]));
    }
}
