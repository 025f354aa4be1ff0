namespace CrmMetrics.Domain.Facts;

/// <summary>Strings of one kind (customer ids, channels, ...) numbered in order of first use, so hot loops compare and index integers.</summary>
public sealed class LabelSet
{
    private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
    private readonly List<string> _labels = [];
    private Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>>? _byChars;

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
    /// The code of a label given as UTF-8 bytes (as stored), numbering it if new: a label already
    /// numbered is found without becoming a string again.
    /// </summary>
    public int Code(ReadOnlySpan<byte> utf8)
    {
        const int OnStack = 256;
        var length = System.Text.Encoding.UTF8.GetMaxCharCount(utf8.Length);
        char[]? rented = null;
        var buffer = length <= OnStack ? stackalloc char[OnStack] : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(length));
        try
        {
            var chars = buffer[..System.Text.Encoding.UTF8.GetChars(utf8, buffer)];
            _byChars ??= _codes.GetAlternateLookup<ReadOnlySpan<char>>();
            return _byChars.Value.TryGetValue(chars, out var code) ? code : Code(chars.ToString());
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>The label of a code, or null for <see cref="FactColumns.None"/>.</summary>
    public string? LabelOf(int code) => code == FactColumns.None ? null : _labels[code];
}

/// <summary>
/// The dictionaries behind <see cref="FactColumns"/>, one per kind of label so each kind's codes are
/// dense (small arrays indexed by channel or staff code). Shared by every batch of one computation,
/// so codes mean the same thing in all of them. Not thread-safe for writers.
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
    public int Add(Fact fact)
    {
        var row = NextRow();
        _type[row] = fact.Type;
        _ticks[row] = fact.Time.UtcTicks;
        _id[row] = fact.Id;
        _customer[row] = Labels.Customers.Code(fact.CustomerId);
        _channel[row] = Labels.Channels.Code(fact.Channel);
        _staff[row] = Labels.Staff.Code(fact.StaffId);
        _amount[row] = fact.Amount ?? 0m;
        _handleSeconds[row] = fact.HandleSeconds ?? double.NaN;
        _flags[row] = (fact.Direction == "inbound" ? FactFlags.Inbound : FactFlags.None)
                      | (fact.FirstContactResolution is { } fcr ? FactFlags.HasFirstContactResolution | (fcr ? FactFlags.FirstContactResolution : FactFlags.None) : FactFlags.None)
                      | (fact.Outcome == "won" ? FactFlags.Won : FactFlags.None);
        _metric[row] = fact.Metric switch { "nps" => SurveyMetric.Nps, "csat" => SurveyMetric.Csat, "ces" => SurveyMetric.Ces, _ => SurveyMetric.None };
        _score[row] = (byte)(fact.Score ?? 0);
        _case[row] = Labels.Cases.Code(fact.CaseId);
        _slaHours[row] = fact.SlaHours ?? double.NaN;
        _competitor[row] = Labels.Competitors.Code(fact.Competitor);
        _segment[row] = Labels.Segments.Code(fact.Segment);
        _region[row] = Labels.Regions.Code(fact.Region);
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
