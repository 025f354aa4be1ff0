using System.Buffers.Binary;

namespace CrmMetrics.Storage.Binary;

/// <summary>
/// Reads what <see cref="BinaryWriter"/> wrote (little-endian numbers, 7-bit varints, strings with
/// a 7-bit byte-length prefix) straight from a span: no stream calls per byte, and strings can be
/// looked at as UTF-8 bytes without becoming strings. Throws <see cref="EndOfStreamException"/> on
/// truncated input and <see cref="FormatException"/> on a malformed varint, decimal or string length;
/// the messages name <paramref name="what"/> ("The day partial", "A fact block").
/// </summary>
internal ref struct SpanReader(ReadOnlySpan<byte> bytes, string what)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _position;

    /// <summary>How many bytes have been read.</summary>
    public readonly int Position => _position;

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > _bytes.Length - _position) throw new EndOfStreamException($"{what} ends early.");
        var slice = _bytes.Slice(_position, count);
        _position += count;
        return slice;
    }

    public byte ReadByte() => ReadBytes(1)[0];

    public bool ReadBoolean() => ReadByte() != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(ReadBytes(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8));

    /// <summary>A decimal as <see cref="BinaryWriter.Write(decimal)"/> writes it: its four 32-bit parts, low first.</summary>
    public decimal ReadDecimal()
    {
        var bytes = ReadBytes(16);
        ReadOnlySpan<int> parts =
        [
            BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]),
        ];
        try
        {
            return new decimal(parts);
        }
        catch (ArgumentException)
        {
            throw new FormatException($"{what} holds a malformed decimal.");
        }
    }

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8));

    public int Read7BitEncodedInt()
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28 && b > 0b1111) break;
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return (int)result;
        }
        throw new FormatException($"A 7-bit encoded integer in {Lower(what)} is too long.");
    }

    public long Read7BitEncodedInt64()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 0b1) break;
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return (long)result;
        }
        throw new FormatException($"A 7-bit encoded integer in {Lower(what)} is too long.");
    }

    /// <summary>
    /// Where a length-prefixed string (as written by <see cref="BinaryWriter.Write(string)"/>) lies,
    /// to look at its UTF-8 bytes later with <see cref="StringAt"/>.
    /// </summary>
    public Range ReadStringRange()
    {
        var length = ReadStringLength();
        var start = _position;
        ReadBytes(length);
        return start..(start + length);
    }

    /// <summary>The UTF-8 bytes of a string read earlier, by its range.</summary>
    public readonly ReadOnlySpan<byte> StringAt(Range range) => _bytes[range];

    /// <summary>The next length-prefixed string's UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> ReadStringBytes() => ReadBytes(ReadStringLength());

    private int ReadStringLength()
    {
        var length = Read7BitEncodedInt();
        return length >= 0 ? length : throw new FormatException($"{what} holds a string of negative length.");
    }

    private static string Lower(string what) => what.Length == 0 ? what : char.ToLowerInvariant(what[0]) + what[1..];
}
