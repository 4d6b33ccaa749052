using System.Diagnostics.CodeAnalysis;
using Warren.Core.Modules;
using Warren.Protocol.GoProxy;

namespace Warren.Storage;

/// <summary>The keys of an <see cref="IArtifactStore"/>: the GOPROXY layout (MODULE/@v/VERSION.zip, escaped), the
/// same for every provider so that a store can be read by other tools, and sumdb/NAME/… for checksum database
/// content. Keys use '/' and never start with '/' or '.warren/', nor hold '..', '\' or NUL.</summary>
public static class StoreLayout
{
    /// <summary>The reserved top-level name of a file store's own state; never a key.</summary>
    public const string StateDirectory = ".warren";

    private static readonly string[] KindNames = ["info", "mod", "zip", "ziphash"];

    /// <summary>The kind's name as the indexes store it ("info", "mod", "zip", "ziphash").</summary>
    public static string KindName(ArtifactKind kind) =>
        (uint)kind < (uint)KindNames.Length ? KindNames[(int)kind] : throw new ArgumentOutOfRangeException(nameof(kind));

    /// <summary>The kind's file-name extension, with its dot.</summary>
    public static string Extension(ArtifactKind kind) => "." + KindName(kind);

    /// <summary>The kind a name of <see cref="KindName"/> stands for; false for any other name.</summary>
    public static bool TryParseKindName(ReadOnlySpan<char> name, out ArtifactKind kind)
    {
        for (var i = 0; i < KindNames.Length; i++)
        {
            if (name.SequenceEqual(KindNames[i]))
            {
                kind = (ArtifactKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>The key of a module version's file; the inputs must be valid (the caller checked them).</summary>
    public static string ArtifactKey(string modulePath, string version, ArtifactKind kind) =>
        GoProxyPaths.VersionFile(modulePath, version, Extension(kind));

    /// <summary>The prefix under which a module's version files are ("ESCAPED/@v/").</summary>
    public static string VersionsPrefix(string modulePath) => GoProxyPaths.EscapedPath(modulePath) + "/@v/";

    /// <summary>The key of a module's list file (kept by the file store for GOPROXY=file:// readers).</summary>
    public static string ListKey(string modulePath) => GoProxyPaths.List(modulePath);

    /// <summary>The prefix of a checksum database's content ("sumdb/NAME/").</summary>
    public static string SumDbPrefix(string databaseName) => "sumdb/" + databaseName + "/";

    /// <summary>Parses a module file's key back into its parts (false for list files, tiles and anything else).</summary>
    public static bool TryParseArtifactKey(string key, [NotNullWhen(true)] out string? modulePath, [NotNullWhen(true)] out string? version, out ArtifactKind kind)
    {
        modulePath = version = null;
        kind = default;
        var at = key.LastIndexOf("/@v/", StringComparison.Ordinal);
        if (at <= 0)
        {
            return false;
        }

        var name = key[(at + 4)..];
        var dot = name.LastIndexOf('.');
        if (dot <= 0)
        {
            return false;
        }

        if (!TryParseKindName(name.AsSpan(dot + 1), out kind) ||
            !ModulePath.TryUnescapePath(key[..at], out var path, out _) || !ModulePath.TryUnescapeVersion(name[..dot], out var v, out _))
        {
            return false;
        }

        modulePath = path;
        version = v;
        return true;
    }

    /// <summary>The canonical versions a listing of <see cref="VersionsPrefix"/> holds any .info, .mod or .zip of,
    /// sorted by semantic version.</summary>
    public static IReadOnlyList<string> VersionsOf(IEnumerable<string> keys)
    {
        var versions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (TryParseArtifactKey(key, out _, out var version, out var kind) && kind != ArtifactKind.ZipHash && SemVer.Canonical(version) == version)
            {
                versions.Add(version);
            }
        }

        var list = versions.ToList();
        list.Sort(SemVer.Compare);
        return list;
    }

    /// <summary>Whether key is a key a store may take: relative, '/'-separated, no empty, '.' or '..' segment, no
    /// '\' or NUL or control character, not under the file store's own state directory.</summary>
    public static bool IsValidKey(string key)
    {
        if (key.Length is 0 or > 1024 || key.StartsWith('/') || key.EndsWith('/') || key.Contains('\\') ||
            key.StartsWith(StateDirectory + "/", StringComparison.Ordinal) || string.Equals(key, StateDirectory, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in key)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <see cref="IsValidKey"/>: the providers' last guard.</summary>
    public static string RequireValidKey(string key) =>
        IsValidKey(key) ? key : throw new ArgumentException($"invalid store key {key}", nameof(key));
}
