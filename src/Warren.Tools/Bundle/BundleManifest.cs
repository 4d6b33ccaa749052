using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Warren.Tools.Prefetch;

namespace Warren.Tools.Bundle;

/// <summary>One file of a bundle: its path relative to the bundle (always '/'), SHA-256 (hex) and size.</summary>
public sealed record BundleFile(string Path, string Sha256, long Size);

/// <summary>A module version a bundle carries: its files (zip: .info, .mod and .zip; else the .mod only) and the hashes
/// the checksum database holds for it.</summary>
public sealed record BundleVersion(string Path, string Version, bool Zip, string? ZipHash, string? GoModHash);

/// <summary>The checksum database whose data a bundle carries under sumdb/NAME/: its verifier key and the size of the
/// signed tree head (sumdb/NAME/latest) every lookup in the bundle is proven against.</summary>
public sealed record BundleSumDb(string Name, string VerifierKey, long TreeSize);

/// <summary>The Go vulnerability database a bundle carries: a file of the bundle (<see cref="Path"/>, vulndb.zip, in the
/// layout of vuln.go.dev's vulndb.zip, listed and hashed like every other file), the number of its entries, the
/// "modified" time of its index/db.json, and where the exporter read it from.</summary>
public sealed record BundleVulnDb(string Path, int Entries, DateTimeOffset Modified, string Source);

/// <summary>warren-bundle.json: what a bundle holds, where it came from, and the cursor the next incremental export
/// starts from. <see cref="VulnDb"/> is absent unless the bundle carries the vulnerability database (export --with-vulndb).</summary>
public sealed record BundleManifest(
    int Format,
    string Source,
    BundleSumDb? SumDb,
    DateTimeOffset Created,
    string? Since,
    string Cursor,
    IReadOnlyList<BundleVersion> Versions,
    IReadOnlyList<BundleFile> Files,
    BundleVulnDb? VulnDb = null)
{
    public const string FileName = "warren-bundle.json";
    public const string SignatureName = "warren-bundle.sig";
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="InvalidDataException">Not a manifest this version of Warren reads.</exception>
    public static BundleManifest Parse(ReadOnlySpan<byte> json)
    {
        BundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BundleManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{FileName}: not valid JSON: {e.Message}", e);
        }

        if (manifest is null || manifest.Files is null || manifest.Versions is null || manifest.Cursor is null)
        {
            throw new InvalidDataException($"{FileName}: incomplete manifest");
        }

        return manifest.Format == CurrentFormat ? manifest : throw new InvalidDataException($"{FileName}: format {manifest.Format} is not {CurrentFormat}");
    }

    /// <summary>SHA-256 of a file, hex.</summary>
    public static async Task<string> Sha256Async(string file, CancellationToken cancellationToken)
    {
        var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }
}

/// <summary>The position an incremental export starts from: the module versions earlier bundles carried (zip: with its
/// .info and .zip; else the .mod only). Written as "b1." + base64url(gzip(lines "path version zip|mod")).</summary>
public sealed class BundleCursor
{
    private const string Prefix = "b1.";
    private readonly Dictionary<ModuleKey, bool> _carried;

    private BundleCursor(Dictionary<ModuleKey, bool> carried) => _carried = carried;

    public static BundleCursor Empty => new([]);

    public int Count => _carried.Count;

    /// <summary>The versions carried, sorted.</summary>
    public IReadOnlyList<ModuleKey> Keys => [.. _carried.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal)];

    /// <summary>Whether an earlier bundle carried what this version needs (its zip, or only its .mod).</summary>
    public bool Carried(ModuleKey key, bool zip) => _carried.TryGetValue(key, out var hadZip) && (hadZip || !zip);

    /// <summary>This cursor with more versions carried.</summary>
    public BundleCursor With(IEnumerable<(ModuleKey Key, bool Zip)> versions)
    {
        var next = new Dictionary<ModuleKey, bool>(_carried);
        foreach (var (key, zip) in versions)
        {
            next[key] = zip || next.GetValueOrDefault(key);
        }

        return new BundleCursor(next);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (key, zip) in _carried.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal))
        {
            text.Append(key.Path).Append(' ').Append(key.Version).Append(zip ? " zip\n" : " mod\n");
        }

        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }

        return Prefix + Convert.ToBase64String(buffer.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>A cursor string, or the cursor of a bundle directory or of its warren-bundle.json.</summary>
    /// <exception cref="FormatException">Neither a cursor nor a bundle.</exception>
    public static BundleCursor Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var manifest = Directory.Exists(value) ? Path.Combine(value, BundleManifest.FileName) : value;
        if (File.Exists(manifest))
        {
            try
            {
                value = BundleManifest.Parse(BundleArchive.IsArchive(manifest) ? BundleArchive.ReadManifest(manifest) : File.ReadAllBytes(manifest)).Cursor;
            }
            catch (InvalidDataException e)
            {
                throw new FormatException(e.Message, e);
            }
        }

        if (!value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new FormatException($"--since: \"{Shorten(value)}\" is neither a bundle cursor (b1.…) nor a bundle directory or {BundleManifest.FileName}");
        }

        try
        {
            var base64 = value[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - (base64.Length % 4)) % 4);
            using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(base64)), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, Encoding.UTF8);
            var carried = new Dictionary<ModuleKey, bool>();
            while (reader.ReadLine() is { } line)
            {
                var fields = line.Split(' ');
                if (fields.Length != 3 || fields[2] is not ("zip" or "mod"))
                {
                    throw new FormatException("--since: malformed cursor");
                }

                carried[new ModuleKey(fields[0], fields[1])] = fields[2] == "zip";
            }

            return new BundleCursor(carried);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new FormatException("--since: malformed cursor: " + e.Message, e);
        }
    }

    private static string Shorten(string value) => value.Length > 40 ? value[..40] + "…" : value;
}
