using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Binary;

namespace CrmMetrics.Storage.Facts;

/// <summary>A block's records as read from a fact log: <paramref name="Count"/> records in <paramref name="Records"/>.</summary>
public readonly record struct FactBlock(ReadOnlyMemory<byte> Records, int Count);

/// <summary>
/// The binary blocks of the per-day fact logs. An append writes whole blocks (one, or several end to
/// end), so a reader never meets part of one: a 12-byte header (the magic "CFL1", the payload length
/// and the record count, little-endian) and its records. A record is the fact's id, its type by
/// name (so the enum may grow or be reordered), its UTC ticks and offset, a bit mask of the optional
/// fields present and those fields in declaration order.
/// </summary>
public static class FactLogFormat
{
    public const int HeaderBytes = 12;

    /// <summary>Under the 4 MiB an append blob block may hold in every service version.</summary>
    public const int MaxBlockBytes = 4 * 1024 * 1024;

    private static ReadOnlySpan<byte> Magic => "CFL1"u8;

    private enum Field
    {
        CustomerId, StaffId, Channel, Segment, Region, Reason, Direction, Fcr, HandleSeconds, Amount, Currency, OriginalAmount,
        Metric, Score, CaseId, Severity, SlaHours, DealId, Outcome, Competitor, Indicator, Value, Period,
    }

    /// <summary>The facts as blocks of at most <paramref name="maxBlockBytes"/> each, in order.</summary>
    public static IEnumerable<byte[]> Blocks(IEnumerable<Fact> facts, int maxBlockBytes = MaxBlockBytes)
    {
        using var body = new MemoryStream();
        using var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true);
        var count = 0;
        foreach (var fact in facts)
        {
            var before = body.Length;
            Write(writer, fact);
            writer.Flush();
            if (HeaderBytes + body.Length <= maxBlockBytes)
            {
                count++;
                continue;
            }
            if (count == 0) throw new ArgumentException($"Fact '{fact.Id}' alone takes more than {maxBlockBytes} bytes.", nameof(facts));
            body.SetLength(before);
            yield return Seal(body, count);
            body.SetLength(0);
            Write(writer, fact);
            writer.Flush();
            count = 1;
        }
        if (count > 0) yield return Seal(body, count);
    }

    /// <summary>
    /// Blocks laid end to end, as few byte arrays of at most <paramref name="maxBytes"/> as keep them
    /// in order: a reader meets the same blocks whether they came in one append or several. A block
    /// that fills a request alone stays as it is.
    /// </summary>
    public static IEnumerable<byte[]> Joined(IReadOnlyList<byte[]> blocks, int maxBytes = MaxBlockBytes)
    {
        for (var first = 0; first < blocks.Count;)
        {
            var (end, bytes) = (first, 0L);
            while (end < blocks.Count && (end == first || bytes + blocks[end].Length <= maxBytes)) bytes += blocks[end++].Length;
            if (end - first == 1)
            {
                yield return blocks[first];
            }
            else
            {
                var joined = new byte[bytes];
                var at = 0;
                for (var i = first; i < end; i++)
                {
                    blocks[i].CopyTo(joined, at);
                    at += blocks[i].Length;
                }
                yield return joined;
            }
            first = end;
        }
    }

    private static byte[] Seal(MemoryStream body, int count)
    {
        var block = new byte[HeaderBytes + body.Length];
        Magic.CopyTo(block);
        BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(4), (int)body.Length);
        BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(8), count);
        body.GetBuffer().AsSpan(0, (int)body.Length).CopyTo(block.AsSpan(HeaderBytes));
        return block;
    }

    /// <summary>
    /// Reads blocks until the stream ends; a stream that ends inside a block, or holds something
    /// else, is corrupt. Each block's records are valid only until the next is asked for.
    /// </summary>
    public static async IAsyncEnumerable<FactBlock> ReadBlocksAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var header = new byte[HeaderBytes];
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                var read = await stream.ReadAtLeastAsync(header, HeaderBytes, throwOnEndOfStream: false, cancellationToken);
                if (read == 0) yield break;
                if (read < HeaderBytes || !header.AsSpan(0, 4).SequenceEqual(Magic)) throw new InvalidDataException("The fact log holds something that is not a fact block.");
                var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
                if (length < 0 || length > MaxBlockBytes || count < 0) throw new InvalidDataException("A fact block's header is corrupt.");
                if (buffer.Length < length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(length);
                }
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
                yield return new FactBlock(buffer.AsMemory(0, length), count);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A block's records as facts.</summary>
    public static List<Fact> Decode(FactBlock block)
    {
        var facts = new List<Fact>(block.Count);
        var bytes = block.Records.Span;
        var r = new SpanReader(bytes, "A fact block");
        for (var i = 0; i < block.Count; i++)
        {
            ReadRecord(ref r, out var record);
            facts.Add(record.ToFact(bytes));
        }
        EnsureEnd(r, bytes);
        return facts;
    }

    /// <summary>
    /// Appends a block's records to <paramref name="columns"/>, those <paramref name="keep"/> accepts
    /// (given each record's id and UTC ticks, in order): no <see cref="Fact"/> is built, and a label
    /// the columns' labels already hold is found from its bytes without becoming a string. A corrupt
    /// block throws and leaves the columns as they were.
    /// </summary>
    public static void AppendTo(FactBlock block, FactColumns columns, Func<string, long, bool> keep)
    {
        var bytes = block.Records.Span;
        var r = new SpanReader(bytes, "A fact block");
        // A record takes at least 16 bytes, so a corrupt count cannot make this reserve more than the block holds.
        columns.EnsureCapacity(columns.Count + Math.Min(block.Count, bytes.Length / 16));
        var before = columns.Count;
        try
        {
            for (var i = 0; i < block.Count; i++)
            {
                ReadRecord(ref r, out var record);
                if (keep(record.Id, record.UtcTicks)) columns.Add(record.ToRow(bytes, columns.Labels));
            }
            EnsureEnd(r, bytes);
        }
        catch
        {
            // A corrupt block adds none of its rows (labels it coded stay numbered, unused).
            columns.Truncate(before);
            throw;
        }
    }

    private static void EnsureEnd(SpanReader r, ReadOnlySpan<byte> bytes)
    {
        if (r.Position != bytes.Length) throw new InvalidDataException("A fact block's length does not match its records.");
    }

    /// <summary>One record as read: its values, and where its strings lie in the block.</summary>
    private struct Record
    {
        public string Id;
        public FactType Type;
        public long UtcTicks;
        public short OffsetMinutes;
        public int Mask;
        public Range CustomerId, StaffId, Channel, Segment, Region, Reason, Direction, Currency, Metric, CaseId, Severity, DealId, Outcome, Competitor, Indicator, Period;
        public bool Fcr;
        public double HandleSeconds, SlaHours, Value;
        public decimal Amount, OriginalAmount;
        public int Score;

        public readonly bool Has(Field field) => (Mask & (1 << (int)field)) != 0;

        private readonly string? Text(Field field, Range range, ReadOnlySpan<byte> block) => Has(field) ? Encoding.UTF8.GetString(block[range]) : null;

        private readonly int Code(Field field, Range range, LabelSet set, ReadOnlySpan<byte> block) => Has(field) ? set.Code(block[range]) : FactColumns.None;

        private readonly bool Is(Field field, Range range, ReadOnlySpan<byte> word, ReadOnlySpan<byte> block) => Has(field) && block[range].SequenceEqual(word);

        public readonly Fact ToFact(ReadOnlySpan<byte> bytes)
        {
            return new Fact
            {
                Id = Id,
                Type = Type,
                Time = new DateTimeOffset(UtcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(OffsetMinutes)),
                CustomerId = Text(Field.CustomerId, CustomerId, bytes),
                StaffId = Text(Field.StaffId, StaffId, bytes),
                Channel = Text(Field.Channel, Channel, bytes),
                Segment = Text(Field.Segment, Segment, bytes),
                Region = Text(Field.Region, Region, bytes),
                Reason = Text(Field.Reason, Reason, bytes),
                Direction = Text(Field.Direction, Direction, bytes),
                FirstContactResolution = Has(Field.Fcr) ? Fcr : null,
                HandleSeconds = Has(Field.HandleSeconds) ? HandleSeconds : null,
                Amount = Has(Field.Amount) ? Amount : null,
                Currency = Text(Field.Currency, Currency, bytes),
                OriginalAmount = Has(Field.OriginalAmount) ? OriginalAmount : null,
                Metric = Text(Field.Metric, Metric, bytes),
                Score = Has(Field.Score) ? Score : null,
                CaseId = Text(Field.CaseId, CaseId, bytes),
                Severity = Text(Field.Severity, Severity, bytes),
                SlaHours = Has(Field.SlaHours) ? SlaHours : null,
                DealId = Text(Field.DealId, DealId, bytes),
                Outcome = Text(Field.Outcome, Outcome, bytes),
                Competitor = Text(Field.Competitor, Competitor, bytes),
                Indicator = Text(Field.Indicator, Indicator, bytes),
                Value = Has(Field.Value) ? Value : null,
                PeriodKey = Text(Field.Period, Period, bytes),
            };
        }

        /// <summary>The record as <see cref="FactColumns"/> holds it, as <see cref="FactColumns.Add(Fact)"/> would make it.</summary>
        public readonly FactRow ToRow(ReadOnlySpan<byte> bytes, FactLabels labels)
        {
            return new FactRow(Type, UtcTicks, Id)
            {
                Customer = Code(Field.CustomerId, CustomerId, labels.Customers, bytes),
                Channel = Code(Field.Channel, Channel, labels.Channels, bytes),
                Staff = Code(Field.StaffId, StaffId, labels.Staff, bytes),
                Amount = Has(Field.Amount) ? Amount : 0m,
                HandleSeconds = Has(Field.HandleSeconds) ? HandleSeconds : double.NaN,
                Flags = FactRow.FlagsOf(Is(Field.Direction, Direction, "inbound"u8, bytes), Has(Field.Fcr) ? Fcr : null, Is(Field.Outcome, Outcome, "won"u8, bytes)),
                Metric = Has(Field.Metric) ? FactRow.MetricOf(bytes[Metric]) : SurveyMetric.None,
                Score = Has(Field.Score) ? (byte)Score : (byte)0,
                Case = Code(Field.CaseId, CaseId, labels.Cases, bytes),
                SlaHours = Has(Field.SlaHours) ? SlaHours : double.NaN,
                Competitor = Code(Field.Competitor, Competitor, labels.Competitors, bytes),
                Segment = Code(Field.Segment, Segment, labels.Segments, bytes),
                Region = Code(Field.Region, Region, labels.Regions, bytes),
            };
        }
    }

    /// <summary>Reads one record as <see cref="Write"/> wrote it; strings other than the id stay where they are.</summary>
    private static void ReadRecord(ref SpanReader r, out Record record)
    {
        record = default;
        record.Id = Encoding.UTF8.GetString(r.ReadStringBytes());
        var typeName = r.ReadStringBytes();
        if (!FactTypes.TryParse(typeName, out record.Type)) throw new InvalidDataException($"The fact log names an unknown fact type '{Encoding.UTF8.GetString(typeName)}'.");
        record.UtcTicks = r.ReadInt64();
        record.OffsetMinutes = r.ReadInt16();
        // What DateTimeOffset accepts (an offset of at most 14 hours, a local time within DateTime's
        // range), checked here since the columns keep only the UTC ticks.
        var localTicks = record.UtcTicks + record.OffsetMinutes * TimeSpan.TicksPerMinute;
        if ((ulong)record.UtcTicks > (ulong)DateTime.MaxValue.Ticks || Math.Abs((int)record.OffsetMinutes) > 14 * 60 || (ulong)localTicks > (ulong)DateTime.MaxValue.Ticks)
        {
            throw new InvalidDataException($"Fact '{record.Id}' in the fact log has a time or offset out of range.");
        }
        record.Mask = r.ReadInt32();
        Range Text(ref SpanReader reader, in Record rec, Field field) => rec.Has(field) ? reader.ReadStringRange() : default;
        record.CustomerId = Text(ref r, record, Field.CustomerId);
        record.StaffId = Text(ref r, record, Field.StaffId);
        record.Channel = Text(ref r, record, Field.Channel);
        record.Segment = Text(ref r, record, Field.Segment);
        record.Region = Text(ref r, record, Field.Region);
        record.Reason = Text(ref r, record, Field.Reason);
        record.Direction = Text(ref r, record, Field.Direction);
        if (record.Has(Field.Fcr)) record.Fcr = r.ReadBoolean();
        if (record.Has(Field.HandleSeconds)) record.HandleSeconds = r.ReadDouble();
        if (record.Has(Field.Amount)) record.Amount = r.ReadDecimal();
        record.Currency = Text(ref r, record, Field.Currency);
        if (record.Has(Field.OriginalAmount)) record.OriginalAmount = r.ReadDecimal();
        record.Metric = Text(ref r, record, Field.Metric);
        if (record.Has(Field.Score)) record.Score = r.ReadInt32();
        record.CaseId = Text(ref r, record, Field.CaseId);
        record.Severity = Text(ref r, record, Field.Severity);
        if (record.Has(Field.SlaHours)) record.SlaHours = r.ReadDouble();
        record.DealId = Text(ref r, record, Field.DealId);
        record.Outcome = Text(ref r, record, Field.Outcome);
        record.Competitor = Text(ref r, record, Field.Competitor);
        record.Indicator = Text(ref r, record, Field.Indicator);
        if (record.Has(Field.Value)) record.Value = r.ReadDouble();
        record.Period = Text(ref r, record, Field.Period);
    }

    private static void Write(BinaryWriter w, Fact f)
    {
        w.Write(f.Id);
        w.Write(f.Type.Name());
        w.Write(f.Time.UtcTicks);
        w.Write((short)f.Time.Offset.TotalMinutes);
        var mask = 0;
        void Has(Field field, bool present)
        {
            if (present) mask |= 1 << (int)field;
        }
        Has(Field.CustomerId, f.CustomerId is not null);
        Has(Field.StaffId, f.StaffId is not null);
        Has(Field.Channel, f.Channel is not null);
        Has(Field.Segment, f.Segment is not null);
        Has(Field.Region, f.Region is not null);
        Has(Field.Reason, f.Reason is not null);
        Has(Field.Direction, f.Direction is not null);
        Has(Field.Fcr, f.FirstContactResolution is not null);
        Has(Field.HandleSeconds, f.HandleSeconds is not null);
        Has(Field.Amount, f.Amount is not null);
        Has(Field.Currency, f.Currency is not null);
        Has(Field.OriginalAmount, f.OriginalAmount is not null);
        Has(Field.Metric, f.Metric is not null);
        Has(Field.Score, f.Score is not null);
        Has(Field.CaseId, f.CaseId is not null);
        Has(Field.Severity, f.Severity is not null);
        Has(Field.SlaHours, f.SlaHours is not null);
        Has(Field.DealId, f.DealId is not null);
        Has(Field.Outcome, f.Outcome is not null);
        Has(Field.Competitor, f.Competitor is not null);
        Has(Field.Indicator, f.Indicator is not null);
        Has(Field.Value, f.Value is not null);
        Has(Field.Period, f.PeriodKey is not null);
        w.Write(mask);

        void Text(string? value)
        {
            if (value is not null) w.Write(value);
        }
        Text(f.CustomerId);
        Text(f.StaffId);
        Text(f.Channel);
        Text(f.Segment);
        Text(f.Region);
        Text(f.Reason);
        Text(f.Direction);
        if (f.FirstContactResolution is { } fcr) w.Write(fcr);
        if (f.HandleSeconds is { } handle) w.Write(handle);
        if (f.Amount is { } amount) w.Write(amount);
        Text(f.Currency);
        if (f.OriginalAmount is { } original) w.Write(original);
        Text(f.Metric);
        if (f.Score is { } score) w.Write(score);
        Text(f.CaseId);
        Text(f.Severity);
        if (f.SlaHours is { } sla) w.Write(sla);
        Text(f.DealId);
        Text(f.Outcome);
        Text(f.Competitor);
        Text(f.Indicator);
        if (f.Value is { } value) w.Write(value);
        Text(f.PeriodKey);
    }
}
