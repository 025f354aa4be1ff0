
using System.Text.Json;
using CrmMetrics.LocalHost.Rpc.Messages;
using Google.Protobuf;

namespace CrmMetrics.LocalHost.Rpc;

/// <summary>Turns protocol values into what bindings need (messages as text) and back.</summary>
public static class TypedDataText
{
    public static TypedData String(string value) => new() { String = value };

    /// <summary>A JSON value, as the host sends trigger metadata such as <c>DequeueCount</c> (<c>"1"</c>) or dates.</summary>
    public static TypedData Json(object? value) => new() { Json = JsonSerializer.Serialize(value) };

    public static TypedData Bytes(ReadOnlySpan<byte> value) => new() { Bytes = ByteString.CopyFrom(value) };

    /// <summary>
    /// The messages an output binding value stands for: one per element of a collection or JSON array
    /// (a <c>string[]</c> output arrives as a JSON array), one for anything else; none for no value.
    /// Strings stay strings; other JSON elements are written as JSON.
    /// </summary>
    public static IReadOnlyList<BinaryData> Messages(TypedData? data)
    {
        if (data is null) return [];
        switch (data.DataCase)
        {
            case TypedData.DataOneofCase.None:
                return [];
            case TypedData.DataOneofCase.String:
                return [BinaryData.FromString(data.String)];
            case TypedData.DataOneofCase.Bytes:
                return [BinaryData.FromBytes(data.Bytes.ToByteArray())];
            case TypedData.DataOneofCase.Stream:
                return [BinaryData.FromBytes(data.Stream.ToByteArray())];
            case TypedData.DataOneofCase.Int:
                return [BinaryData.FromString(data.Int.ToString(System.Globalization.CultureInfo.InvariantCulture))];
            case TypedData.DataOneofCase.Double:
                return [BinaryData.FromString(data.Double.ToString("R", System.Globalization.CultureInfo.InvariantCulture))];
            case TypedData.DataOneofCase.CollectionString:
                return data.CollectionString.String.Select(BinaryData.FromString).ToList();
            case TypedData.DataOneofCase.CollectionBytes:
                return data.CollectionBytes.Bytes.Select(b => BinaryData.FromBytes(b.ToByteArray())).ToList();
            case TypedData.DataOneofCase.CollectionDouble:
                return data.CollectionDouble.Double.Select(d => BinaryData.FromString(d.ToString("R", System.Globalization.CultureInfo.InvariantCulture))).ToList();
            case TypedData.DataOneofCase.CollectionSint64:
                return data.CollectionSint64.Sint64.Select(d => BinaryData.FromString(d.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
            case TypedData.DataOneofCase.Json:
                using (var doc = JsonDocument.Parse(data.Json))
                {
                    return doc.RootElement.ValueKind switch
                    {
                        JsonValueKind.Null => [],
                        JsonValueKind.Array => doc.RootElement.EnumerateArray().Where(e => e.ValueKind != JsonValueKind.Null).Select(Element).ToList(),
                        _ => [Element(doc.RootElement)],
                    };
                }
            default:
                throw new NotSupportedException($"An output of kind {data.DataCase} cannot be written to a queue.");
        }

        static BinaryData Element(JsonElement e) => e.ValueKind == JsonValueKind.String ? BinaryData.FromString(e.GetString()!) : BinaryData.FromString(e.GetRawText());
    }

    /// <summary>Text for logs: a value's kind and size, never its content (it may hold personal data).</summary>
    public static string Describe(TypedData? data) => data is null ? "nothing" : data.DataCase.ToString();

    public static bool IsUtf8(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
