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
        await foreach (var block in FactLogFormat.ReadBlocksAsync(stream, default)) facts.AddRange(FactLogFormat.Decode(block));
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

    /// <summary>Every column of a row, labels as their text, so batches over different labels compare.</summary>
    private static object[] RowOf(FactColumns c, int row) =>
    [
        c.Types[row], c.Ticks[row], c.Ids[row], c.Labels.Customers.LabelOf(c.Customers[row]) ?? "-", c.Labels.Channels.LabelOf(c.Channels[row]) ?? "-",
        c.Labels.Staff.LabelOf(c.Staff[row]) ?? "-", c.Amounts[row].ToString(System.Globalization.CultureInfo.InvariantCulture), c.HandleSeconds[row], c.Flags[row], c.Metrics[row], c.Scores[row],
        c.Labels.Cases.LabelOf(c.Cases[row]) ?? "-", c.SlaHours[row], c.Labels.Competitors.LabelOf(c.Competitors[row]) ?? "-",
        c.Labels.Segments.LabelOf(c.Segments[row]) ?? "-", c.Labels.Regions.LabelOf(c.Regions[row]) ?? "-",
    ];

    private static readonly Fact[] EveryColumn =
    [
        .. Facts,
        new() { Id = "i-2", Type = FactType.Interaction, Time = DateTimeOffset.Parse("2026-03-03T11:00:00Z"), CustomerId = "C-1", StaffId = "S-2", Channel = "phone", Direction = "inbound", FirstContactResolution = true },
        new() { Id = "i-4", Type = FactType.Interaction, Time = DateTimeOffset.Parse("2026-03-03T11:30:00+14:00"), CustomerId = "C-2", FirstContactResolution = true },
        new() { Id = "i-3", Type = FactType.Interaction, Time = DateTimeOffset.Parse("2026-03-03T12:00:00Z"), CustomerId = "C-3", Direction = "outbound", HandleSeconds = 0 },
        new() { Id = "s-2", Type = FactType.SurveyResponse, Time = DateTimeOffset.Parse("2026-03-03T13:00:00Z"), CustomerId = "C-3", Metric = "csat", Score = 5 },
        new() { Id = "s-3", Type = FactType.SurveyResponse, Time = DateTimeOffset.Parse("2026-03-03T13:30:00Z"), CustomerId = "C-3", Metric = "ces", Score = 7 },
        new() { Id = "d-2", Type = FactType.DealClosed, Time = DateTimeOffset.Parse("2026-03-03T15:00:00Z"), CustomerId = "C-1", DealId = "D-2", Outcome = "won", Competitor = "Acme & Co", Amount = -0.00000001m },
        new() { Id = "r-1", Type = FactType.ComplaintResolved, Time = DateTimeOffset.Parse("2026-03-03T16:00:00Z"), CustomerId = "C-2", CaseId = "K/1#?", StaffId = "S-1", Channel = "email" },
        new() { Id = "o-2", Type = FactType.Order, Time = DateTimeOffset.Parse("2026-03-03T17:00:00Z"), CustomerId = "مشتری-۱", Amount = decimal.MaxValue, Currency = "IRR" },
    ];

    [Fact]
    public void A_block_appended_to_columns_gives_what_adding_its_facts_one_by_one_gives()
    {
        var block = FactLogFormat.Blocks(EveryColumn).Single();
        var decoded = new FactColumns(new FactLabels());
        var offered = new List<(string Id, long Ticks)>();
        // The keep callback sees every record in order and decides which become rows.
        FactLogFormat.AppendTo(new FactBlock(block.AsMemory(FactLogFormat.HeaderBytes), EveryColumn.Length), decoded, (id, ticks) =>
        {
            offered.Add((id, ticks));
            return id != "c-1";
        });
        Assert.Equal(EveryColumn.Select(f => (f.Id, f.Time.UtcTicks)), offered);

        var expected = new FactColumns(new FactLabels());
        foreach (var fact in EveryColumn.Where(f => f.Id != "c-1")) expected.Add(fact);
        Assert.Equal(expected.Count, decoded.Count);
        for (var row = 0; row < expected.Count; row++) Assert.Equal(RowOf(expected, row), RowOf(decoded, row));
    }

    [Fact]
    public void Labels_the_columns_already_hold_keep_their_codes()
    {
        var labels = new FactLabels();
        var web = labels.Channels.Code("web");
        var customer = labels.Customers.Code("C-1");
        var columns = new FactColumns(labels);
        FactLogFormat.AppendTo(new FactBlock(FactLogFormat.Blocks(Facts.Take(1)).Single().AsMemory(FactLogFormat.HeaderBytes), 1), columns, (_, _) => true);
        Assert.Equal(web, columns.Channels[0]);
        Assert.Equal(customer, columns.Customers[0]);
        Assert.Equal(2, labels.Channels.Count + labels.Customers.Count);
    }

    [Fact]
    public void A_block_whose_records_do_not_fill_it_or_overrun_it_or_name_an_unknown_type_is_reported_corrupt()
    {
        var records = FactLogFormat.Blocks(Facts).Single().AsMemory(FactLogFormat.HeaderBytes);
        void Append(ReadOnlyMemory<byte> bytes, int count) => FactLogFormat.AppendTo(new FactBlock(bytes, count), new FactColumns(new FactLabels()), (_, _) => true);
        Assert.Throws<InvalidDataException>(() => Append(records, Facts.Length - 1));
        Assert.Throws<EndOfStreamException>(() => Append(records[..^3], Facts.Length));
        Assert.Throws<EndOfStreamException>(() => Append(records, Facts.Length + 1));

        var unknown = FactLogFormat.Blocks([Facts[0]]).Single();
        var name = System.Text.Encoding.UTF8.GetBytes("order");
        var at = unknown.AsSpan().IndexOf(name);
        unknown[at] = (byte)'x';
        var error = Assert.Throws<InvalidDataException>(() => Append(unknown.AsMemory(FactLogFormat.HeaderBytes), 1));
        Assert.Contains("xrder", error.Message);
        Assert.Throws<InvalidDataException>(() => FactLogFormat.Decode(new FactBlock(unknown.AsMemory(FactLogFormat.HeaderBytes), 1)));
    }

    /// <summary>The records of a block of <paramref name="facts"/>, with the time of the last one (right after its id and type) replaced.</summary>
    private static byte[] WithLastTime(Fact[] facts, long utcTicks, short offsetMinutes)
    {
        var records = FactLogFormat.Blocks(facts).Single()[FactLogFormat.HeaderBytes..];
        var last = facts[^1];
        var before = facts.Length == 1 ? 0 : FactLogFormat.Blocks(facts[..^1]).Single().Length - FactLogFormat.HeaderBytes;
        var at = before + 1 + System.Text.Encoding.UTF8.GetByteCount(last.Id) + 1 + last.Type.Name().Length;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(records.AsSpan(at), utcTicks);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(records.AsSpan(at + 8), offsetMinutes);
        return records;
    }

    [Theory]
    [InlineData(0L, (short)0, true)]
    [InlineData(0L, (short)840, true)]
    [InlineData(0L, (short)-1, false)] // local time before year 1
    [InlineData(638_000_000_000_000_000L, (short)841, false)] // offset beyond 14 hours
    [InlineData(638_000_000_000_000_000L, (short)-841, false)]
    [InlineData(3_155_378_975_999_999_999L, (short)1, false)] // local time after year 9999
    [InlineData(-1L, (short)0, false)]
    public void A_time_or_offset_out_of_range_is_reported_corrupt_by_both_readers(long utcTicks, short offsetMinutes, bool valid)
    {
        var records = WithLastTime([Facts[0]], utcTicks, offsetMinutes);
        var block = new FactBlock(records, 1);
        var columns = new FactColumns(new FactLabels());
        if (valid)
        {
            FactLogFormat.AppendTo(block, columns, (_, _) => true);
            Assert.Equal(utcTicks, columns.Ticks[0]);
            Assert.Equal(TimeSpan.FromMinutes(offsetMinutes), FactLogFormat.Decode(block)[0].Time.Offset);
            return;
        }
        Assert.Contains("out of range", Assert.Throws<InvalidDataException>(() => FactLogFormat.AppendTo(block, columns, (_, _) => true)).Message);
        Assert.Throws<InvalidDataException>(() => FactLogFormat.Decode(block));
    }

    [Fact]
    public void A_corrupt_block_adds_none_of_its_rows()
    {
        var columns = new FactColumns(new FactLabels());
        columns.Add(Facts[0]);
        // The second record's time is out of range: the first was read already, and is taken back.
        var corrupt = WithLastTime([Facts[1], Facts[2]], -5, 0);
        Assert.Throws<InvalidDataException>(() => FactLogFormat.AppendTo(new FactBlock(corrupt, 2), columns, (_, _) => true));
        Assert.Equal(1, columns.Count);
        Assert.Equal("o-1", columns.Ids[0]);
    }

    [Fact]
    public void A_negative_string_length_is_reported_as_such()
    {
        byte[] records = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, .. "order"u8];
        var error = Assert.Throws<FormatException>(() => FactLogFormat.AppendTo(new FactBlock(records, 1), new FactColumns(new FactLabels()), (_, _) => true));
        Assert.Contains("negative length", error.Message);
    }
}
