using System.IO.Compression;
using System.Security.Cryptography;

namespace CrmMetrics.Functions.Dashboard;

/// <summary>
/// The dashboard's static files: <c>Dashboard/wwwroot</c> in the app's folder, where the build puts the
/// page, its scripts and styles, and the chart library and font it bundles from npm. They are read once
/// into memory, each with an ETag and, where it pays, a gzip copy. Only files found there are served: a
/// request's path is looked up in that list, never combined into a file system path.
/// </summary>
public sealed class DashboardAssets(string root)
{
    public const string Page = "index.html";

    public sealed record Asset(string Path, string ContentType, byte[] Body, byte[]? Gzip, string ETag);

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".woff2"] = "font/woff2",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/plain; charset=utf-8",
    };

    private readonly Lazy<IReadOnlyDictionary<string, Asset>> _assets = new(() => Load(root));

    /// <summary>Where the build lays the files out: beside the app's assembly, as in the deployed package.</summary>
    public static string DefaultRoot => System.IO.Path.Combine(AppContext.BaseDirectory, "Dashboard", "wwwroot");

    public Asset? Find(string path) => _assets.Value.GetValueOrDefault(path);

    private static Dictionary<string, Asset> Load(string root)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        if (!Directory.Exists(root)) return assets;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var path = System.IO.Path.GetRelativePath(root, file).Replace('\\', '/');
            if (!ContentTypes.TryGetValue(System.IO.Path.GetExtension(file), out var type)) continue;
            var body = File.ReadAllBytes(file);
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..32] + "\"";
            // Text compresses to a third or less; fonts and images are compressed already.
            var gzip = type.StartsWith("text/", StringComparison.Ordinal) || type == "image/svg+xml" ? Compress(body) : null;
            assets[path] = new Asset(path, type, body, gzip is not null && gzip.Length < body.Length ? gzip : null, etag);
        }
        return assets;
    }

    private static byte[] Compress(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) gzip.Write(body);
        return buffer.ToArray();
    }
}
