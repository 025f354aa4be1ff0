using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;

namespace CrmMetrics.Storage.Account;

/// <summary>How documents stored inside rows and blobs are serialised, and how long strings are split across properties.</summary>
public static class StorageJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// The documents administrators define (goals, plans, alert rules, derived indicators), which the audit trail
    /// shows as they were: enum values are spelled as the API spells them (<c>month</c>, <c>higher</c>,
    /// <c>critical</c>). Either spelling reads back.
    /// </summary>
    public static readonly JsonSerializerOptions DocumentOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    // A string property holds at most 64 KiB (32K UTF-16 characters); an entity at most 1 MiB.
    private const int ChunkChars = 30_000;
    private const int MaxChunks = 15;

    /// <summary>Stores a document as JSON in <paramref name="name"/>0..n properties.</summary>
    public static void Write<T>(TableEntity entity, string name, T value, JsonSerializerOptions? options = null) =>
        WriteText(entity, name, JsonSerializer.Serialize(value, options ?? Options));

    /// <summary>Stores JSON text in <paramref name="name"/>0..n properties.</summary>
    public static void WriteText(TableEntity entity, string name, string json)
    {
        var chunks = (json.Length + ChunkChars - 1) / ChunkChars;
        if (chunks > MaxChunks) throw new DocumentTooLargeException(name, json.Length, MaxChunks * ChunkChars);
        for (var i = 0; i < Math.Max(chunks, 1); i++)
        {
            entity[name + i] = json.Substring(i * ChunkChars, Math.Min(ChunkChars, json.Length - i * ChunkChars));
        }
        for (var i = Math.Max(chunks, 1); i < MaxChunks && entity.ContainsKey(name + i); i++) entity.Remove(name + i);
    }

    /// <summary>The properties a document named <paramref name="name"/> may occupy.</summary>
    public static IReadOnlyList<string> Columns(string name) => Enumerable.Range(0, MaxChunks).Select(i => name + i).ToList();

    public static T? Read<T>(TableEntity entity, string name, JsonSerializerOptions? options = null) =>
        ReadText(entity, name) is { } json ? JsonSerializer.Deserialize<T>(json, options ?? Options) : default;

    /// <summary>The JSON text stored in <paramref name="name"/>0..n, or null.</summary>
    public static string? ReadText(TableEntity entity, string name)
    {
        if (entity.GetString(name + 0) is not { } first) return null;
        var json = first;
        for (var i = 1; i < MaxChunks && entity.GetString(name + i) is { } next; i++) json += next;
        return json;
    }
}

/// <summary>A document longer than one row holds (<paramref name="Characters"/> of JSON, at most <paramref name="Limit"/>); thrown before anything is written.</summary>
public sealed class DocumentTooLargeException(string name, int characters, int limit)
    : InvalidOperationException($"{name} is too large to store in one row ({characters} characters; at most {limit})")
{
    public int Characters => characters;
    public int Limit => limit;
}
