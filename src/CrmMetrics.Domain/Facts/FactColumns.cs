namespace CrmMetrics.Domain.Facts;

/// <summary>Strings of one kind (customer ids, channels, ...) numbered in order of first use, so hot loops compare and index integers.</summary>
public sealed class LabelSet
{
    private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
    private readonly List<string> _labels = [];
    private readonly Dictionary<byte[], int> _utf8Codes = new(Utf8Comparer.Instance);
    private Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>>? _byUtf8;

    public int Count => _labels.Count;

    public string this[int code] => _labels[code];

    /// <summary>The label's code, numbering it if new; <see cref="FactColumns.None"/> for null.</summary>
    public int Code(string? label)
    {
        if (label is null) return FactColumns.None;
        if (_codes.TryGetValue(label, out var code)) return code;
        code = _labels.Count;
        _codes.Add(label, code);
        _labels.Add(label);
        return code;
    }

    /// <summary>
    /// The code of a label given as UTF-8 bytes (as stored), numbering it if new: a spelling seen
    /// before is found from its bytes alone, without decoding them or making a string.
    /// </summary>
    public int Code(ReadOnlySpan<byte> utf8)
    {
        _byUtf8 ??= _utf8Codes.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (_byUtf8.Value.TryGetValue(utf8, out var code)) return code;
        // Decoded once per spelling (bytes that are not valid UTF-8 decode as String does, so two such
        // spellings may share a label).
        code = Code(System.Text.Encoding.UTF8.GetString(utf8));
        _utf8Codes.Add(utf8.ToArray(), code);
        return code;
    }

    /// <summary>Byte spellings compared by content, and found from a span.</summary>
    private sealed class Utf8Comparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly Utf8Comparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] bytes) => Hash(bytes);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            // Seeded per process, like string hashing, so stored labels cannot be chosen to collide.
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }

    /// <summary>The label of a code, or null for <see cref="FactColumns.None"/>.</summary>
    public string? LabelOf(int code) => code == FactColumns.None ? null : _labels[code];
}

/// <summary>
/// The dictionaries behind <see cref="FactColumns"/>, one per kind of label so each kind's codes are
/// dense (small arrays indexed by channel or staff code). Shared by every batch of one computation,
/// so codes mean the same thing in all of them. Not thread-safe for writers; finding a label from
/// its bytes counts as writing (the first time it learns that spelling).
/// </summary>
public sealed class FactLabels
{
    public LabelSet Customers { get; } = new();
    public LabelSet Channels { get; } = new();
    public LabelSet Staff { get; } = new();
    public LabelSet Segments { get; } = new();
    public LabelSet Regions { get; } = new();
    public LabelSet Competitors { get; } = new();
    public LabelSet Cases { get; } = new();
}

[Flags]
public enum FactFlags : byte
{
    None = 0,
    Inbound = 1,
    HasFirstContactResolution = 2,
    FirstContactResolution = 4,
    Won = 8,
}

public enum SurveyMetric : byte { None, Nps, Csat, Ces }

/// <summary>
/// One fact as <see cref="FactColumns"/> holds it: labels as codes (<see cref="FactColumns.None"/>
/// when absent), amounts 0 and hours and seconds NaN when absent. What a decoder fills to append a
/// fact without building a <see cref="Fact"/> first.
/// </summary>
public struct FactRow(FactType type, long utcTicks, string id)
{
    public FactType Type = type;

    /// <summary>UTC ticks of the fact's time.</summary>
    public long Ticks = utcTicks;
    public string Id = id;
    public int Customer = FactColumns.None;
    public int Channel = FactColumns.None;
    public int Staff = FactColumns.None;
    public decimal Amount;
    public double HandleSeconds = double.NaN;
    public FactFlags Flags;
    public SurveyMetric Metric;
    public byte Score;
    public int Case = FactColumns.None;
    public double SlaHours = double.NaN;
    public int Competitor = FactColumns.None;
    public int Segment = FactColumns.None;
    public int Region = FactColumns.None;

    public static FactFlags FlagsOf(bool inbound, bool? firstContactResolution, bool won) =>
        (inbound ? FactFlags.Inbound : FactFlags.None)
        | (firstContactResolution is { } fcr ? FactFlags.HasFirstContactResolution | (fcr ? FactFlags.FirstContactResolution : FactFlags.None) : FactFlags.None)
        | (won ? FactFlags.Won : FactFlags.None);

    public static SurveyMetric MetricOf(string? metric) => metric switch
    {
        "nps" => SurveyMetric.Nps, "csat" => SurveyMetric.Csat, "ces" => SurveyMetric.Ces, _ => SurveyMetric.None,
    };

    /// <summary>The metric named by its UTF-8 bytes, as stored.</summary>
    public static SurveyMetric MetricOf(ReadOnlySpan<byte> utf8) =>
        utf8.SequenceEqual("nps"u8) ? SurveyMetric.Nps
        : utf8.SequenceEqual("csat"u8) ? SurveyMetric.Csat
        : utf8.SequenceEqual("ces"u8) ? SurveyMetric.Ces
        : SurveyMetric.None;
}

/// <summary>
/// Facts as columns (struct arrays) with their strings dictionary-encoded in <see cref="Labels"/>:
/// what the map step and the calculator read, so aggregating a million facts allocates nothing per
/// fact and hashes no strings. Columns grow as rows are added; <see cref="Clear"/> keeps them for reuse.
/// </summary>
public sealed class FactColumns(FactLabels labels, int capacity = 1024)
{
    /// <summary>The code of an absent label (no channel, no staff, ...).</summary>
    public const int None = -1;

    private FactType[] _type = new FactType[capacity];
    private long[] _ticks = new long[capacity];
    private string[] _id = new string[capacity];
    private int[] _customer = new int[capacity];
    private int[] _channel = new int[capacity];
    private int[] _staff = new int[capacity];
    private decimal[] _amount = new decimal[capacity];
    private double[] _handleSeconds = new double[capacity];
    private FactFlags[] _flags = new FactFlags[capacity];
    private SurveyMetric[] _metric = new SurveyMetric[capacity];
    private byte[] _score = new byte[capacity];
    private int[] _case = new int[capacity];
    private double[] _slaHours = new double[capacity];
    private int[] _competitor = new int[capacity];
    private int[] _segment = new int[capacity];
    private int[] _region = new int[capacity];

    public FactLabels Labels { get; } = labels;
    public int Count { get; private set; }

    public ReadOnlySpan<FactType> Types => _type.AsSpan(0, Count);

    /// <summary>UTC ticks of the fact's time.</summary>
    public ReadOnlySpan<long> Ticks => _ticks.AsSpan(0, Count);
    public ReadOnlySpan<string> Ids => _id.AsSpan(0, Count);
    public ReadOnlySpan<int> Customers => _customer.AsSpan(0, Count);
    public ReadOnlySpan<int> Channels => _channel.AsSpan(0, Count);
    public ReadOnlySpan<int> Staff => _staff.AsSpan(0, Count);

    /// <summary>Order and deal amounts in the reporting currency; 0 where the fact has none.</summary>
    public ReadOnlySpan<decimal> Amounts => _amount.AsSpan(0, Count);

    /// <summary>Interaction handling seconds; NaN where the fact has none.</summary>
    public ReadOnlySpan<double> HandleSeconds => _handleSeconds.AsSpan(0, Count);
    public ReadOnlySpan<FactFlags> Flags => _flags.AsSpan(0, Count);
    public ReadOnlySpan<SurveyMetric> Metrics => _metric.AsSpan(0, Count);
    public ReadOnlySpan<byte> Scores => _score.AsSpan(0, Count);
    public ReadOnlySpan<int> Cases => _case.AsSpan(0, Count);

    /// <summary>Complaint SLA hours; NaN where the complaint names none.</summary>
    public ReadOnlySpan<double> SlaHours => _slaHours.AsSpan(0, Count);
    public ReadOnlySpan<int> Competitors => _competitor.AsSpan(0, Count);
    public ReadOnlySpan<int> Segments => _segment.AsSpan(0, Count);
    public ReadOnlySpan<int> Regions => _region.AsSpan(0, Count);

    public DateTimeOffset TimeOf(int row) => new(_ticks[row], TimeSpan.Zero);

    /// <summary>Appends a fact; returns its row.</summary>
    public int Add(Fact fact) => Add(new FactRow(fact.Type, fact.Time.UtcTicks, fact.Id)
    {
        Customer = Labels.Customers.Code(fact.CustomerId),
        Channel = Labels.Channels.Code(fact.Channel),
        Staff = Labels.Staff.Code(fact.StaffId),
        Amount = fact.Amount ?? 0m,
        HandleSeconds = fact.HandleSeconds ?? double.NaN,
        Flags = FactRow.FlagsOf(fact.Direction == "inbound", fact.FirstContactResolution, fact.Outcome == "won"),
        Metric = FactRow.MetricOf(fact.Metric),
        Score = (byte)(fact.Score ?? 0),
        Case = Labels.Cases.Code(fact.CaseId),
        SlaHours = fact.SlaHours ?? double.NaN,
        Competitor = Labels.Competitors.Code(fact.Competitor),
        Segment = Labels.Segments.Code(fact.Segment),
        Region = Labels.Regions.Code(fact.Region),
    });

    /// <summary>Appends a fact already in column form (its label codes from <see cref="Labels"/>); returns its row.</summary>
    public int Add(in FactRow fact)
    {
        var row = NextRow();
        _type[row] = fact.Type;
        _ticks[row] = fact.Ticks;
        _id[row] = fact.Id;
        _customer[row] = fact.Customer;
        _channel[row] = fact.Channel;
        _staff[row] = fact.Staff;
        _amount[row] = fact.Amount;
        _handleSeconds[row] = fact.HandleSeconds;
        _flags[row] = fact.Flags;
        _metric[row] = fact.Metric;
        _score[row] = fact.Score;
        _case[row] = fact.Case;
        _slaHours[row] = fact.SlaHours;
        _competitor[row] = fact.Competitor;
        _segment[row] = fact.Segment;
        _region[row] = fact.Region;
        return row;
    }

    /// <summary>Appends a row of another batch over the same labels; returns its row here.</summary>
    public int Append(FactColumns other, int row)
    {
        if (other.Labels != Labels) throw new ArgumentException("The batches must share their labels.", nameof(other));
        var to = NextRow();
        _type[to] = other._type[row];
        _ticks[to] = other._ticks[row];
        _id[to] = other._id[row];
        _customer[to] = other._customer[row];
        _channel[to] = other._channel[row];
        _staff[to] = other._staff[row];
        _amount[to] = other._amount[row];
        _handleSeconds[to] = other._handleSeconds[row];
        _flags[to] = other._flags[row];
        _metric[to] = other._metric[row];
        _score[to] = other._score[row];
        _case[to] = other._case[row];
        _slaHours[to] = other._slaHours[row];
        _competitor[to] = other._competitor[row];
        _segment[to] = other._segment[row];
        _region[to] = other._region[row];
        return to;
    }

    /// <summary>Makes room for <paramref name="rows"/> rows in all, so adding a known number grows the columns once.</summary>
    public void EnsureCapacity(int rows)
    {
        if (rows > _type.Length) Grow(Math.Max(rows, _type.Length * 2));
    }

    /// <summary>Forgets the rows from <paramref name="count"/> on, keeping the columns' memory and the labels.</summary>
    public void Truncate(int count)
    {
        if (count < 0 || count > Count) throw new ArgumentOutOfRangeException(nameof(count));
        Count = count;
    }

    /// <summary>Forgets the rows, keeping the columns' memory and the labels.</summary>
    public void Clear() => Count = 0;

    private int NextRow()
    {
        if (Count == _type.Length) Grow(Math.Max(16, Count * 2));
        return Count++;
    }

    private void Grow(int capacity)
    {
        Array.Resize(ref _type, capacity);
        Array.Resize(ref _ticks, capacity);
        Array.Resize(ref _id, capacity);
        Array.Resize(ref _customer, capacity);
        Array.Resize(ref _channel, capacity);
        Array.Resize(ref _staff, capacity);
        Array.Resize(ref _amount, capacity);
        Array.Resize(ref _handleSeconds, capacity);
        Array.Resize(ref _flags, capacity);
        Array.Resize(ref _metric, capacity);
        Array.Resize(ref _score, capacity);
        Array.Resize(ref _case, capacity);
        Array.Resize(ref _slaHours, capacity);
        Array.Resize(ref _competitor, capacity);
        Array.Resize(ref _segment, capacity);
        Array.Resize(ref _region, capacity);
    }
}
