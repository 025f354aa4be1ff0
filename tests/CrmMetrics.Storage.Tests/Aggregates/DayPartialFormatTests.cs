using System.Text;
using CrmMetrics.Domain.Facts;
using CrmMetrics.Storage.Aggregates;

namespace CrmMetrics.Storage.Tests.Aggregates;

/// <summary>Reading partials that are not what they claim: the read names what is wrong instead of reading past its string table.</summary>
public class DayPartialFormatTests
{
    /// <summary>
    /// Reads a partial of the current format that <paramref name="rest"/> completes after its string
    /// table (the magic, the version, a day, a fact count, <paramref name="stringCount"/> and these
    /// strings), and returns what the read threw.
    /// </summary>
    private static T ReadFails<T>(int stringCount, string[] strings, Action<BinaryWriter> rest) where T : Exception
    {
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("CMDP"u8);
            w.Write((byte)3);
            w.Write(new DateOnly(2031, 5, 1).DayNumber);
            w.Write7BitEncodedInt64(1);
            w.Write7BitEncodedInt(stringCount);
            foreach (var s in strings) w.Write(s);
            rest(w);
        }
        return Assert.Throws<T>(() => DayPartialFormat.Read(bytes.ToArray(), new FactLabels()));
    }

    [Fact]
    public void A_string_table_longer_than_the_partial_fails_the_read_with_what_is_wrong()
    {
        var e = ReadFails<FormatException>(int.MaxValue / 2, ["a"], _ => { });

        Assert.Contains("string table", e.Message);
    }

    [Theory]
    [InlineData(1)]  // just past the table
    [InlineData(7)]  // past the table, within any pooled buffer it is read into
    public void A_scope_named_by_a_string_past_the_table_fails_the_read_with_what_is_wrong(int index)
    {
        var e = ReadFails<FormatException>(1, ["org"], w =>
        {
            w.Write7BitEncodedInt(1);     // one scope,
            w.Write7BitEncodedInt(index); // named by a string the table does not hold
            w.Write(new byte[64]);
        });

        Assert.Contains("does not hold", e.Message);
    }

    [Theory]
    [InlineData(2)]  // just past the table
    [InlineData(8)]  // past the table, within any pooled buffer it is read into
    public void An_order_cell_naming_a_string_past_the_table_fails_the_read_with_what_is_wrong(int reference)
    {
        var e = ReadFails<FormatException>(1, ["C-1"], w =>
        {
            w.Write7BitEncodedInt(0);         // no scopes, competitors or active deltas;
            w.Write7BitEncodedInt(0);
            w.Write7BitEncodedInt(0);
            w.Write7BitEncodedInt(1);         // one order cell, whose customer is a string
            w.Write7BitEncodedInt(reference); // (1-based) the table does not hold
            w.Write(new byte[64]);
        });

        Assert.Contains("does not hold", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_cell_count_beyond_the_bytes_ends_the_read_early_without_reserving_for_it(bool lifecycle)
    {
        ReadFails<EndOfStreamException>(1, ["C-1"], w =>
        {
            w.Write7BitEncodedInt(0);            // no scopes,
            w.Write7BitEncodedInt(0);            // no competitors,
            w.Write7BitEncodedInt(0);            // no active deltas,
            if (lifecycle) w.Write7BitEncodedInt(0); // (no order cells,)
            w.Write7BitEncodedInt(int.MaxValue); // and more cells than any partial holds,
            w.Write7BitEncodedInt(1);            // of which only part of one follows
        });
    }
}
