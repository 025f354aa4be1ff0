using System.Buffers;
using System.Text;
using CrmMetrics.Domain.Aggregation;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Binary;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>
/// The day partial's stored form: binary, every string once in a table, counts as 7-bit varints,
/// amounts as exact decimals in a few bytes, order and lifecycle cells as small integers. A period reads tens of
/// these, so they are read into the period's own <see cref="FactLabels"/> (each string mapped once,
/// not once per cell). The first bytes name the format; a reader meeting another (older) format
/// answers null, and the day is aggregated again.
/// </summary>
public static class DayPartialFormat
{
    private static ReadOnlySpan<byte> Magic => "CMDP"u8;
    private const byte Version = 3; // 3: the day's lifecycle cells

    public static void Write(Stream stream, DayPartial partial)
    {
        var strings = new StringTable();
        var orders = partial.Orders;
        var labels = orders.Labels;
        // Strings first (the reader needs the table before anything refers to it).
        var scopes = partial.Scopes.Select(s => (Name: strings.Index(s.Key), s.Value)).ToList();
        var competitors = partial.DealsByCompetitor.Select(c => (Name: strings.Index(c.Key), c.Value)).ToList();
        var deltas = partial.ActiveDeltas.Select(d => (Name: strings.Index(d.Key), d.Value)).ToList();
        var customerIndex = new LabelIndex(labels.Customers, strings);
        var channelIndex = new LabelIndex(labels.Channels, strings);
        var staffIndex = new LabelIndex(labels.Staff, strings);
        var segmentIndex = new LabelIndex(labels.Segments, strings);
        var regionIndex = new LabelIndex(labels.Regions, strings);
        var cells = new (int Customer, int Channel, int Staff, int Segment, int Region)[orders.Count];
        for (var i = 0; i < orders.Count; i++)
        {
            cells[i] = (customerIndex.Of(orders.Customers[i]), channelIndex.Of(orders.Channels[i]), staffIndex.Of(orders.Staff[i]),
                segmentIndex.Of(orders.Segments[i]), regionIndex.Of(orders.Regions[i]));
        }
        var lifecycle = partial.Lifecycle;
        var moves = new (int Customer, int Segment, int Region)[lifecycle.Count];
        for (var i = 0; i < lifecycle.Count; i++)
        {
            moves[i] = (customerIndex.Of(lifecycle.Customers[i]), segmentIndex.Of(lifecycle.Segments[i]), regionIndex.Of(lifecycle.Regions[i]));
        }

        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write(partial.Day.DayNumber);
        w.Write7BitEncodedInt64(partial.FactCount);
        w.Write7BitEncodedInt(strings.Count);
        foreach (var s in strings.All) w.Write(s);

        w.Write7BitEncodedInt(scopes.Count);
        foreach (var (name, aggregate) in scopes)
        {
            w.Write7BitEncodedInt(name);
            WriteScope(w, aggregate);
        }
        w.Write7BitEncodedInt(competitors.Count);
        foreach (var (name, tally) in competitors)
        {
            w.Write7BitEncodedInt(name);
            w.Write7BitEncodedInt64(tally.Won);
            w.Write7BitEncodedInt64(tally.Closed);
        }
        w.Write7BitEncodedInt(deltas.Count);
        foreach (var (name, delta) in deltas)
        {
            w.Write7BitEncodedInt(name);
            w.Write7BitEncodedInt64(delta.Activated);
            w.Write7BitEncodedInt64(delta.Deactivated);
        }
        // Cells: string indices shifted by one, so 0 stands for no label.
        w.Write7BitEncodedInt(cells.Length);
        for (var i = 0; i < cells.Length; i++)
        {
            var (customer, channel, staff, segment, region) = cells[i];
            w.Write7BitEncodedInt(customer + 1);
            w.Write7BitEncodedInt(channel + 1);
            w.Write7BitEncodedInt(staff + 1);
            w.Write7BitEncodedInt(segment + 1);
            w.Write7BitEncodedInt(region + 1);
            WriteDecimal(w, orders.Amounts[i]);
        }
        w.Write7BitEncodedInt(moves.Length);
        for (var i = 0; i < moves.Length; i++)
        {
            w.Write7BitEncodedInt(moves[i].Customer + 1);
            w.Write7BitEncodedInt(moves[i].Segment + 1);
            w.Write7BitEncodedInt(moves[i].Region + 1);
            w.Write((byte)lifecycle.Moves[i]);
        }
    }

    /// <summary>
    /// Reads a partial into <paramref name="labels"/>; null when the bytes are of another format.
    /// A label the labels already hold is found from its bytes, without becoming a string again.
    /// </summary>
    public static DayPartial? Read(ReadOnlySpan<byte> bytes, FactLabels labels)
    {
        if (bytes.Length < Magic.Length + 1 || !bytes[..Magic.Length].SequenceEqual(Magic) || bytes[Magic.Length] != Version) return null;
        var r = new SpanReader(bytes[(Magic.Length + 1)..], "The day partial");
        var partial = new DayPartial { Day = DateOnly.FromDayNumber(r.ReadInt32()), FactCount = r.Read7BitEncodedInt64(), Orders = new OrderCells(labels) };
        // Each string takes at least its length's byte, so a longer table is not a partial (and no huge buffer is rented for it).
        var stringCount = r.Read7BitEncodedInt();
        if (stringCount < 0 || stringCount > bytes.Length || (long)LabelKinds * stringCount > Array.MaxLength)
            throw new FormatException("A day partial's string table is longer than the partial.");
        // A period reads some 30 of these at a time: the string table and the codes of its strings are pooled scratch.
        var strings = ArrayPool<Range>.Shared.Rent(stringCount);
        var codes = ArrayPool<int>.Shared.Rent(LabelKinds * stringCount);
        try
        {
            for (var i = 0; i < stringCount; i++) strings[i] = r.ReadStringRange();
            codes.AsSpan(0, LabelKinds * stringCount).Fill(LabelCodes.Unknown);
            Range StringAt(int index) =>
                (uint)index < (uint)stringCount ? strings[index] : throw new FormatException("A day partial refers to a string it does not hold.");
            string Text(ref SpanReader reader) => Encoding.UTF8.GetString(reader.StringAt(StringAt(reader.Read7BitEncodedInt())));

            for (var n = r.Read7BitEncodedInt(); n > 0; n--) partial.Scopes[Text(ref r)] = ReadScope(ref r);
            for (var n = r.Read7BitEncodedInt(); n > 0; n--)
            {
                partial.DealsByCompetitor[Text(ref r)] = new DealTally { Won = r.Read7BitEncodedInt64(), Closed = r.Read7BitEncodedInt64() };
            }
            for (var n = r.Read7BitEncodedInt(); n > 0; n--)
            {
                partial.ActiveDeltas[Text(ref r)] = new ActiveDelta { Activated = r.Read7BitEncodedInt64(), Deactivated = r.Read7BitEncodedInt64() };
            }
            var customers = new LabelCodes(labels.Customers, codes, 0 * stringCount);
            var channels = new LabelCodes(labels.Channels, codes, 1 * stringCount);
            var staff = new LabelCodes(labels.Staff, codes, 2 * stringCount);
            var segments = new LabelCodes(labels.Segments, codes, 3 * stringCount);
            var regions = new LabelCodes(labels.Regions, codes, 4 * stringCount);
            int Code(ref SpanReader reader, LabelCodes codes)
            {
                var index = reader.Read7BitEncodedInt() - 1;
                if (index >= stringCount) throw new FormatException("A day partial's cell refers to a string it does not hold.");
                return index < 0 ? FactColumns.None : codes.Of(index, reader.StringAt(strings[index]));
            }
            var orderCells = r.Read7BitEncodedInt();
            // A cell takes at least six bytes; a count beyond that is not reserved for (the read then ends early, as before).
            partial.Orders.Reserve(Math.Min(Math.Max(orderCells, 0), bytes.Length / 6));
            for (var n = orderCells; n > 0; n--)
            {
                partial.Orders.Append(Code(ref r, customers), Code(ref r, channels), Code(ref r, staff), Code(ref r, segments), Code(ref r, regions), ReadDecimal(ref r));
            }
            var lifecycleCells = r.Read7BitEncodedInt();
            partial.Lifecycle.Reserve(Math.Min(Math.Max(lifecycleCells, 0), bytes.Length / 4));
            for (var n = lifecycleCells; n > 0; n--)
            {
                var customer = Code(ref r, customers);
                var segment = Code(ref r, segments);
                var region = Code(ref r, regions);
                var moves = (LifecycleMoves)r.ReadByte();
                if (customer == FactColumns.None || moves == LifecycleMoves.None || (moves & ~(LifecycleMoves.Churned | LifecycleMoves.Activated)) != 0)
                    throw new FormatException("A day partial's lifecycle cell has no customer or an unknown move.");
                partial.Lifecycle.Append(customer, segment, region, moves);
            }
            return partial;
        }
        finally
        {
            ArrayPool<Range>.Shared.Return(strings);
            ArrayPool<int>.Shared.Return(codes);
        }
    }

    /// <summary>The label kinds a cell refers to: customer, channel, staff, segment, region.</summary>
    private const int LabelKinds = 5;

    private static void WriteScope(BinaryWriter w, ScopeAggregate s)
    {
        w.Write7BitEncodedInt64(s.FactCount);
        WriteCounts(w, s.Nps);
        WriteCounts(w, s.Csat);
        WriteCounts(w, s.Ces);
        w.Write7BitEncodedInt64(s.ComplaintsOpened);
        w.Write7BitEncodedInt64(s.Resolved);
        w.Write7BitEncodedInt64(s.ResolvedWithinSla);
        WriteDigest(w, s.ResolutionHours);
        w.Write7BitEncodedInt64(s.Interactions);
        w.Write7BitEncodedInt64(s.InboundWithFcrFlag);
        w.Write7BitEncodedInt64(s.InboundFcrTrue);
        w.Write(s.HandleSecondsSum);
        w.Write7BitEncodedInt64(s.HandleSecondsCount);
        WriteDecimal(w, s.Revenue);
        w.Write7BitEncodedInt64(s.Orders);
        w.Write7BitEncodedInt64(s.DealsClosed);
        w.Write7BitEncodedInt64(s.DealsWon);
        WriteDecimal(w, s.WonAmount);
        w.Write7BitEncodedInt64(s.NewCustomers);
        w.Write7BitEncodedInt64(s.WinBacks);
        w.Write7BitEncodedInt64(s.Churned);
    }

    private static ScopeAggregate ReadScope(ref SpanReader r) => new()
    {
        FactCount = r.Read7BitEncodedInt64(),
        Nps = ReadCounts(ref r),
        Csat = ReadCounts(ref r),
        Ces = ReadCounts(ref r),
        ComplaintsOpened = r.Read7BitEncodedInt64(),
        Resolved = r.Read7BitEncodedInt64(),
        ResolvedWithinSla = r.Read7BitEncodedInt64(),
        ResolutionHours = ReadDigest(ref r),
        Interactions = r.Read7BitEncodedInt64(),
        InboundWithFcrFlag = r.Read7BitEncodedInt64(),
        InboundFcrTrue = r.Read7BitEncodedInt64(),
        HandleSecondsSum = r.ReadDouble(),
        HandleSecondsCount = r.Read7BitEncodedInt64(),
        Revenue = ReadDecimal(ref r),
        Orders = r.Read7BitEncodedInt64(),
        DealsClosed = r.Read7BitEncodedInt64(),
        DealsWon = r.Read7BitEncodedInt64(),
        WonAmount = ReadDecimal(ref r),
        NewCustomers = r.Read7BitEncodedInt64(),
        WinBacks = r.Read7BitEncodedInt64(),
        Churned = r.Read7BitEncodedInt64(),
    };

    private static void WriteCounts(BinaryWriter w, long[] counts)
    {
        w.Write7BitEncodedInt(counts.Length);
        foreach (var c in counts) w.Write7BitEncodedInt64(c);
    }

    private static long[] ReadCounts(ref SpanReader r)
    {
        var counts = new long[r.Read7BitEncodedInt()];
        for (var i = 0; i < counts.Length; i++) counts[i] = r.Read7BitEncodedInt64();
        return counts;
    }

    private static void WriteDigest(BinaryWriter w, DurationDigest d)
    {
        if (d.Exact is { } exact)
        {
            w.Write((byte)0);
            w.Write7BitEncodedInt(exact.Count);
            foreach (var v in exact) w.Write(v);
            return;
        }
        w.Write((byte)1);
        w.Write7BitEncodedInt64(d.Zeros);
        foreach (var buckets in new[] { d.Positive!, d.Negative! })
        {
            w.Write7BitEncodedInt(buckets.Count);
            foreach (var (index, count) in buckets)
            {
                w.Write7BitEncodedInt((index << 1) ^ (index >> 31));
                w.Write7BitEncodedInt64(count);
            }
        }
    }

    private static DurationDigest ReadDigest(ref SpanReader r)
    {
        if (r.ReadByte() == 0)
        {
            var exact = new List<double>(r.Read7BitEncodedInt());
            for (var i = exact.Capacity; i > 0; i--) exact.Add(r.ReadDouble());
            return new DurationDigest { Exact = exact };
        }
        var digest = new DurationDigest { Exact = null, Zeros = r.Read7BitEncodedInt64() };
        digest.Positive = ReadBuckets(ref r);
        digest.Negative = ReadBuckets(ref r);
        return digest;
    }

    private static Dictionary<int, long> ReadBuckets(ref SpanReader r)
    {
        var buckets = new Dictionary<int, long>();
        for (var n = r.Read7BitEncodedInt(); n > 0; n--)
        {
            var zigzag = (uint)r.Read7BitEncodedInt();
            buckets[(int)(zigzag >> 1) ^ -(int)(zigzag & 1)] = r.Read7BitEncodedInt64();
        }
        return buckets;
    }

    /// <summary>A decimal exactly, in a flags byte and its 96-bit magnitude as varints (most amounts take 4–6 bytes).</summary>
    private static void WriteDecimal(BinaryWriter w, decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var scale = (byte)((bits[3] >> 16) & 0x7F);
        w.Write((byte)(scale | (bits[3] < 0 ? 0x80 : 0)));
        w.Write7BitEncodedInt64((long)((uint)bits[0] | ((ulong)(uint)bits[1] << 32)));
        w.Write7BitEncodedInt(bits[2]);
    }

    private static decimal ReadDecimal(ref SpanReader r)
    {
        var flags = r.ReadByte();
        var low = (ulong)r.Read7BitEncodedInt64();
        var high = r.Read7BitEncodedInt();
        return new decimal((int)(uint)low, (int)(uint)(low >> 32), high, (flags & 0x80) != 0, (byte)(flags & 0x7F));
    }

    private sealed class StringTable
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public List<string> All { get; } = [];
        public int Count => All.Count;

        public int Index(string s)
        {
            if (_index.TryGetValue(s, out var i)) return i;
            _index[s] = i = All.Count;
            All.Add(s);
            return i;
        }
    }

    /// <summary>Label code → string-table index, each label looked up once.</summary>
    private sealed class LabelIndex(LabelSet labels, StringTable strings)
    {
        private readonly int[] _index = Enumerable.Repeat(-2, labels.Count).ToArray();

        public int Of(int code)
        {
            if (code == FactColumns.None) return -1;
            if (_index[code] == -2) _index[code] = strings.Index(labels[code]);
            return _index[code];
        }
    }

    /// <summary>
    /// String-table index → label code of one kind, each string looked up once (from its UTF-8 bytes);
    /// the codes live in a slice of a buffer the read shares among the kinds, from <paramref name="offset"/> on.
    /// </summary>
    private sealed class LabelCodes(LabelSet labels, int[] codes, int offset)
    {
        /// <summary>A string not looked up yet (label codes are at least <see cref="FactColumns.None"/>).</summary>
        public const int Unknown = -2;

        public int Of(int index, ReadOnlySpan<byte> utf8)
        {
            ref var code = ref codes[offset + index];
            if (code == Unknown) code = labels.Code(utf8);
            return code;
        }
    }
}
