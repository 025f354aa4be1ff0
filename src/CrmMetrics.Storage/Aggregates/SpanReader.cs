using System.Buffers.Binary;

namespace CrmMetrics.Storage.Aggregates;

/// <summary>
/// Reads what <see cref="BinaryWriter"/> wrote (little-endian numbers, 7-bit varints, strings with
/// a 7-bit byte-length prefix) straight from a span: no stream calls per byte, and strings can be
/// looked at as UTF-8 bytes without becoming strings. Throws <see cref="EndOfStreamException"/> on
/// truncated input and <see cref="FormatException"/> on a malformed varint, as BinaryReader does.
/// </summary>
internal ref struct SpanReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _position;

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > _bytes.Length - _position) throw new EndOfStreamException("The day partial ends early.");
        var slice = _bytes.Slice(_position, count);
        _position += count;
        return slice;
    }

    public byte ReadByte() => ReadBytes(1)[0];

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

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
        throw new FormatException("A 7-bit encoded integer in the day partial is too long.");
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
        throw new FormatException("A 7-bit encoded integer in the day partial is too long.");
    }

    /// <summary>
    /// Where a length-prefixed string (as written by <see cref="BinaryWriter.Write(string)"/>) lies,
    /// to look at its UTF-8 bytes later with <see cref="StringAt"/>.
    /// </summary>
    public Range ReadStringRange()
    {
        var length = Read7BitEncodedInt();
        var start = _position;
        ReadBytes(length);
        return start..(start + length);
    }

    /// <summary>The UTF-8 bytes of a string read earlier, by its range.</summary>
    public ReadOnlySpan<byte> StringAt(Range range) => _bytes[range];
}
