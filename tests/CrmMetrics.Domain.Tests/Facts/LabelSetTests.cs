using System.Text;
using CrmMetrics.Domain.Facts;

namespace CrmMetrics.Domain.Tests.Facts;

public class LabelSetTests
{
    [Theory]
    [InlineData("C-1")]
    [InlineData("مشتری-۱")]
    [InlineData("")]
    public void A_label_given_as_utf8_bytes_has_the_code_of_the_same_string(string label)
    {
        var labels = new LabelSet();
        labels.Code("other");
        var code = labels.Code(label);

        Assert.Equal(code, labels.Code(Encoding.UTF8.GetBytes(label)));
        Assert.Equal(2, labels.Count);
    }

    [Fact]
    public void A_new_label_given_as_bytes_is_numbered_next_and_reads_back_as_its_string()
    {
        var labels = new LabelSet();
        labels.Code("C-1");
        var longLabel = new string('é', 300);

        Assert.Equal(1, labels.Code(Encoding.UTF8.GetBytes(longLabel)));
        Assert.Equal(longLabel, labels[1]);
        Assert.Equal(1, labels.Code(longLabel));
        Assert.Equal(2, labels.Count);
    }

    [Fact]
    public void Spellings_that_decode_to_one_string_share_its_code_and_others_do_not()
    {
        var labels = new LabelSet();
        // Invalid UTF-8 decodes to U+FFFD as string decoding does: both spellings are the label "\uFFFD".
        var first = labels.Code([0xFF]);
        Assert.Equal(first, labels.Code([0xFE]));
        Assert.Equal(first, labels.Code("\uFFFD"));
        Assert.Equal(first, labels.Code(Encoding.UTF8.GetBytes("\uFFFD")));
        // Spellings that differ only in a byte, or in length, are different labels.
        Assert.NotEqual(labels.Code("ab"u8), labels.Code("ac"u8));
        Assert.NotEqual(labels.Code("ab"u8), labels.Code("ab\0"u8));
        Assert.Equal(["\uFFFD", "ab", "ac", "ab\0"], Enumerable.Range(0, labels.Count).Select(c => labels[c]));
    }
}
