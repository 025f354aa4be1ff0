using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Storage.Facts;

/// <summary>
/// The binary blocks of the per-day fact logs. A block is what one append writes, so a reader never
/// meets part of one: a 12-byte header (the magic "CFL1", the payload length and the record count,
/// little-endian) and its records. A record is the fact's id, its type by name (so the enum may
/// grow or be reordered), its UTC ticks and offset, a bit mask of the optional fields present and
/// those fields in declaration order.
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

    private static byte[] Seal(MemoryStream body, int count)
    {
        var block = new byte[HeaderBytes + body.Length];
        Magic.CopyTo(block);
        BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(4), (int)body.Length);
        BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(8), count);
        body.GetBuffer().AsSpan(0, (int)body.Length).CopyTo(block.AsSpan(HeaderBytes));
        return block;
    }

    /// <summary>Reads blocks until the stream ends; a stream that ends inside a block, or holds something else, is corrupt.</summary>
    public static async IAsyncEnumerable<Fact> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                foreach (var fact in Decode(buffer, length, count)) yield return fact;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static List<Fact> Decode(byte[] buffer, int length, int count)
    {
        var facts = new List<Fact>(count);
        using var reader = new BinaryReader(new MemoryStream(buffer, 0, length, writable: false), Encoding.UTF8);
        for (var i = 0; i < count; i++) facts.Add(Read(reader));
        if (reader.BaseStream.Position != length) throw new InvalidDataException("A fact block's length does not match its records.");
        return facts;
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

    private static Fact Read(BinaryReader r)
    {
        var id = r.ReadString();
        var typeName = r.ReadString();
        if (!FactTypes.TryParse(typeName, out var type)) throw new InvalidDataException($"The fact log names an unknown fact type '{typeName}'.");
        var utcTicks = r.ReadInt64();
        var offset = TimeSpan.FromMinutes(r.ReadInt16());
        var mask = r.ReadInt32();
        bool Has(Field field) => (mask & (1 << (int)field)) != 0;
        string? Text(Field field) => Has(field) ? r.ReadString() : null;
        return new Fact
        {
            Id = id,
            Type = type,
            Time = new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(offset),
            CustomerId = Text(Field.CustomerId),
            StaffId = Text(Field.StaffId),
            Channel = Text(Field.Channel),
            Segment = Text(Field.Segment),
            Region = Text(Field.Region),
            Reason = Text(Field.Reason),
            Direction = Text(Field.Direction),
            FirstContactResolution = Has(Field.Fcr) ? r.ReadBoolean() : null,
            HandleSeconds = Has(Field.HandleSeconds) ? r.ReadDouble() : null,
            Amount = Has(Field.Amount) ? r.ReadDecimal() : null,
            Currency = Text(Field.Currency),
            OriginalAmount = Has(Field.OriginalAmount) ? r.ReadDecimal() : null,
            Metric = Text(Field.Metric),
            Score = Has(Field.Score) ? r.ReadInt32() : null,
            CaseId = Text(Field.CaseId),
            Severity = Text(Field.Severity),
            SlaHours = Has(Field.SlaHours) ? r.ReadDouble() : null,
            DealId = Text(Field.DealId),
            Outcome = Text(Field.Outcome),
            Competitor = Text(Field.Competitor),
            Indicator = Text(Field.Indicator),
            Value = Has(Field.Value) ? r.ReadDouble() : null,
            PeriodKey = Text(Field.Period),
        };
    }
}
