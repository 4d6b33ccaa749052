using System.Buffers;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>Module path, import path and file path rules and case-escaping, as golang.org/x/mod/module defines them.</summary>
/// <remarks>
/// Check methods return null when the input is acceptable, else the reason exactly as Go words it, without Go's
/// "malformed module path %q: " wrapper (see <see cref="FormatInvalidPath"/> to add it). A C# string holding an
/// unpaired surrogate is treated the way Go treats a string that is not valid UTF-8.
/// </remarks>
public static class ModulePath
{
    private enum Kind
    {
        Module,
        Import,
        File,
    }

    // Per ASCII character: which kinds of path element may contain it.
    private const byte ModuleOk = 1;
    private const byte ImportOk = 2;
    private const byte FileOk = 4;

    private static readonly byte[] AsciiRules = BuildAsciiRules();

    private static byte[] BuildAsciiRules()
    {
        var rules = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            if (char.IsAsciiLetterOrDigit((char)c))
            {
                rules[c] = ModuleOk | ImportOk | FileOk;
            }
        }

        foreach (char c in "-._~")
        {
            rules[c] = ModuleOk | ImportOk | FileOk;
        }

        rules['+'] = ImportOk | FileOk;

        foreach (char c in "!#$%&()+,=@[]^{} ")
        {
            rules[c] |= FileOk;
        }

        return rules;
    }

    /// <summary>module.CheckPath: null when valid, else the reason (e.g. "invalid char 'X'").</summary>
    public static string? CheckPath(string path)
    {
        var error = CheckGeneral(path, Kind.Module);
        if (error is not null)
        {
            return error;
        }

        int slash = path.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? path.AsSpan() : path.AsSpan(0, slash);
        if (first.IsEmpty)
        {
            return "leading slash";
        }

        if (!first.Contains('.'))
        {
            return "missing dot in first path element";
        }

        if (path[0] == '-')
        {
            return "leading dash in first path element";
        }

        foreach (char c in first)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || c == '.'))
            {
                return "invalid char " + GoQuoting.QuoteRune(c) + " in first path element";
            }
        }

        if (!TrySplitPathVersion(path, out _))
        {
            return "invalid version";
        }

        return null;
    }

    /// <summary>module.CheckImportPath.</summary>
    public static string? CheckImportPath(string path) => CheckGeneral(path, Kind.Import);

    /// <summary>module.CheckFilePath (a file path inside a module zip, relative to the module root).</summary>
    public static string? CheckFilePath(string path) => CheckGeneral(path, Kind.File);

    /// <summary>Go's InvalidPathError text: kind is "module", "import" or "file".</summary>
    public static string FormatInvalidPath(string kind, string path, string reason)
        => "malformed " + kind + " path " + GoQuoting.Quote(path) + ": " + reason;

    /// <summary>module.EscapePath: "github.com/BurntSushi/toml" → "github.com/!burnt!sushi/toml". Fails for invalid paths.</summary>
    /// <remarks>On failure, error is the <see cref="CheckPath"/> reason.</remarks>
    public static bool TryEscapePath(string path, out string escaped, out string? error)
    {
        error = CheckPath(path);
        if (error is not null)
        {
            escaped = "";
            return false;
        }

        return TryEscapeString(path, out escaped, out error);
    }

    /// <summary>module.UnescapePath: the inverse; fails on bad '!' escapes, upper case, or an invalid result.</summary>
    /// <remarks>On failure, error is Go's text, e.g. <c>invalid escaped module path "x": malformed module path "x": …</c>.</remarks>
    public static bool TryUnescapePath(string escaped, out string path, out string? error)
    {
        if (!TryUnescapeString(escaped, out path))
        {
            error = "invalid escaped module path " + GoQuoting.Quote(escaped);
            return false;
        }

        var reason = CheckPath(path);
        if (reason is not null)
        {
            error = "invalid escaped module path " + GoQuoting.Quote(escaped) + ": " + FormatInvalidPath("module", path, reason);
            path = "";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>module.EscapeVersion.</summary>
    /// <remarks>Versions need not be semantic versions, but must be valid file names without '!'.</remarks>
    public static bool TryEscapeVersion(string version, out string escaped, out string? error)
    {
        if (version is null || CheckElement(version, Kind.File) is not null || version.Contains('!', StringComparison.Ordinal))
        {
            escaped = "";
            error = "version " + GoQuoting.Quote(version) + " invalid: disallowed version string";
            return false;
        }

        return TryEscapeString(version, out escaped, out error);
    }

    /// <summary>module.UnescapeVersion.</summary>
    public static bool TryUnescapeVersion(string escaped, out string version, out string? error)
    {
        if (!TryUnescapeString(escaped, out version))
        {
            error = "invalid escaped version " + GoQuoting.Quote(escaped);
            return false;
        }

        var reason = CheckElement(version, Kind.File);
        if (reason is not null)
        {
            error = "invalid escaped version " + GoQuoting.Quote(version) + ": " + reason;
            version = "";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>module.SplitPathVersion: "gopkg.in/yaml.v3" → ("gopkg.in/yaml", ".v3"), "a/b/v2" → ("a/b", "/v2").</summary>
    /// <remarks>When the last element breaks the major-suffix rules (e.g. "/v1", "/v2.0", "/v02"), returns (path, "", false).</remarks>
    public static (string Prefix, string PathMajor, bool Ok) SplitPathVersion(string path)
    {
        bool ok = TrySplitPathVersion(path, out int split);
        if (!ok || split == path.Length)
        {
            return (path, "", ok);
        }

        return (path[..split], path[split..], true);
    }

    /// <summary>Index where the major-version suffix starts (path.Length when there is none); false when the suffix is malformed.</summary>
    private static bool TrySplitPathVersion(string path, out int split)
    {
        split = path.Length;
        if (path.StartsWith("gopkg.in/", StringComparison.Ordinal))
        {
            return TrySplitGopkgIn(path, out split);
        }

        int i = path.Length;
        bool dot = false;
        while (i > 0 && (char.IsAsciiDigit(path[i - 1]) || path[i - 1] == '.'))
        {
            dot |= path[i - 1] == '.';
            i--;
        }

        if (i <= 1 || i == path.Length || path[i - 1] != 'v' || path[i - 2] != '/')
        {
            return true;
        }

        // path[i-2..] is "/v" followed by digits and dots.
        if (dot || path[i] == '0' || (path.Length - i == 1 && path[i] == '1'))
        {
            return false;
        }

        split = i - 2;
        return true;
    }

    private static bool TrySplitGopkgIn(string path, out int split)
    {
        split = path.Length;
        int i = path.Length;
        if (path.EndsWith("-unstable", StringComparison.Ordinal))
        {
            i -= "-unstable".Length;
        }

        while (i > 0 && char.IsAsciiDigit(path[i - 1]))
        {
            i--;
        }

        if (i <= 1 || path[i - 1] != 'v' || path[i - 2] != '.')
        {
            return false;
        }

        // The major is path[i-2..]: ".v" then digits (maybe none before "-unstable"); of those starting with '0', only ".v0" itself.
        int majorLength = path.Length - (i - 2);
        if (majorLength <= 2 || (path[i] == '0' && majorLength != 3))
        {
            return false;
        }

        split = i - 2;
        return true;
    }

    /// <summary>module.CheckPathMajor: null when version fits the path's major suffix.</summary>
    /// <remarks>The reason reads like "should be v2, not v1" (Go wraps it as <c>version "v1.0.0" invalid: …</c>).</remarks>
    public static string? CheckPathMajor(string version, string pathMajor)
    {
        version ??= "";
        pathMajor ??= "";
        if (pathMajor.StartsWith(".v", StringComparison.Ordinal) && pathMajor.EndsWith("-unstable", StringComparison.Ordinal))
        {
            pathMajor = pathMajor[..^"-unstable".Length];
        }

        if (pathMajor == ".v1" && version.StartsWith("v0.0.0-", StringComparison.Ordinal))
        {
            // Early pseudo-versions of gopkg.in/….v1 modules used v0; go.mod files still carry them.
            return null;
        }

        string major = SemVer.Major(version);
        string want;
        if (pathMajor.Length == 0)
        {
            if (major is "v0" or "v1" || SemVer.IsIncompatible(version))
            {
                return null;
            }

            want = "v0 or v1";
        }
        else if (pathMajor[0] is '/' or '.')
        {
            if (pathMajor.AsSpan(1).SequenceEqual(major))
            {
                return null;
            }

            want = pathMajor[1..];
        }
        else
        {
            want = pathMajor;
        }

        return "should be " + want + ", not " + major;
    }

    /// <summary>module.MatchPathMajor: true exactly when <see cref="CheckPathMajor"/> returns null.</summary>
    public static bool MatchPathMajor(string version, string pathMajor) => CheckPathMajor(version, pathMajor) is null;

    private static string? CheckGeneral(string path, Kind kind)
    {
        if (path is null || path.Length == 0)
        {
            return "empty string";
        }

        if (!IsWellFormed(path))
        {
            return "invalid UTF-8";
        }

        if (path[0] == '-' && kind != Kind.File)
        {
            return "leading dash";
        }

        if (path.Contains("//", StringComparison.Ordinal))
        {
            return "double slash";
        }

        if (path[^1] == '/')
        {
            return "trailing slash";
        }

        var rest = path.AsSpan();
        while (true)
        {
            int slash = rest.IndexOf('/');
            var element = slash < 0 ? rest : rest[..slash];
            var error = CheckElement(element, kind);
            if (error is not null || slash < 0)
            {
                return error;
            }

            rest = rest[(slash + 1)..];
        }
    }

    private static string? CheckElement(ReadOnlySpan<char> element, Kind kind)
    {
        if (element.IsEmpty)
        {
            return "empty path element";
        }

        if (!element.ContainsAnyExcept('.'))
        {
            return "invalid path element " + GoQuoting.Quote(element);
        }

        if (element[0] == '.' && kind == Kind.Module)
        {
            return "leading dot in path element";
        }

        if (element[^1] == '.')
        {
            return "trailing dot in path element";
        }

        byte need = kind switch
        {
            Kind.Module => ModuleOk,
            Kind.Import => ImportOk,
            _ => FileOk,
        };

        for (int i = 0; i < element.Length; i++)
        {
            char c = element[i];
            if (c < 128)
            {
                if ((AsciiRules[c] & need) == 0)
                {
                    return "invalid char " + GoQuoting.QuoteRune(c);
                }

                continue;
            }

            if (Rune.DecodeFromUtf16(element[i..], out var rune, out int used) != OperationStatus.Done)
            {
                // Only reachable for versions: Go sees U+FFFD for bytes that are not UTF-8.
                return "invalid char " + GoQuoting.QuoteRune(Rune.ReplacementChar.Value);
            }

            if (kind != Kind.File || !Rune.IsLetter(rune))
            {
                return "invalid char " + GoQuoting.QuoteRune(rune.Value);
            }

            i += used - 1;
        }

        int dot = element.IndexOf('.');
        var shortName = dot < 0 ? element : element[..dot];
        if (IsReservedWindowsName(shortName))
        {
            return GoQuoting.Quote(shortName) + " disallowed as path element component on Windows";
        }

        if (kind == Kind.File)
        {
            return null;
        }

        // Names like "PROGRA~1" are Windows short names; reject a trailing "~digits".
        int tilde = shortName.LastIndexOf('~');
        if (tilde >= 0 && tilde < shortName.Length - 1 && !shortName[(tilde + 1)..].ContainsAnyExceptInRange('0', '9'))
        {
            return "trailing tilde and digits in path element";
        }

        return null;
    }

    /// <summary>CON, PRN, AUX, NUL, COM1-9, LPT1-9 in any case.</summary>
    private static bool IsReservedWindowsName(ReadOnlySpan<char> name)
    {
        if (name.Length == 3)
        {
            return name.Equals("CON", StringComparison.OrdinalIgnoreCase)
                || name.Equals("PRN", StringComparison.OrdinalIgnoreCase)
                || name.Equals("AUX", StringComparison.OrdinalIgnoreCase)
                || name.Equals("NUL", StringComparison.OrdinalIgnoreCase);
        }

        if (name.Length == 4 && name[3] is >= '1' and <= '9')
        {
            var stem = name[..3];
            return stem.Equals("COM", StringComparison.OrdinalIgnoreCase)
                || stem.Equals("LPT", StringComparison.OrdinalIgnoreCase);
        }

        return false;
    }

    /// <summary>True when s has no unpaired surrogate (the UTF-16 analogue of Go's utf8.ValidString).</summary>
    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
            {
                return false;
            }

            i++;
        }

        return true;
    }

    private static bool TryEscapeString(string s, out string escaped, out string? error)
    {
        int upper = 0;
        foreach (char c in s)
        {
            if (c == '!' || c >= 128)
            {
                escaped = "";
                error = "internal error: inconsistency in EscapePath";
                return false;
            }

            if (char.IsAsciiLetterUpper(c))
            {
                upper++;
            }
        }

        error = null;
        if (upper == 0)
        {
            escaped = s;
            return true;
        }

        escaped = string.Create(s.Length + upper, s, static (span, src) =>
        {
            int j = 0;
            foreach (char c in src)
            {
                if (char.IsAsciiLetterUpper(c))
                {
                    span[j++] = '!';
                    span[j++] = (char)(c + ('a' - 'A'));
                }
                else
                {
                    span[j++] = c;
                }
            }
        });
        return true;
    }

    private static bool TryUnescapeString(string escaped, out string result)
    {
        result = "";
        if (escaped is null)
        {
            return false;
        }

        int bangs = 0;
        for (int i = 0; i < escaped.Length; i++)
        {
            char c = escaped[i];
            if (c >= 128 || char.IsAsciiLetterUpper(c))
            {
                return false;
            }

            if (c == '!')
            {
                if (i + 1 >= escaped.Length || !char.IsAsciiLetterLower(escaped[i + 1]))
                {
                    return false;
                }

                bangs++;
                i++;
            }
        }

        if (bangs == 0)
        {
            result = escaped;
            return true;
        }

        result = string.Create(escaped.Length - bangs, escaped, static (span, src) =>
        {
            int j = 0;
            for (int i = 0; i < src.Length; i++)
            {
                char c = src[i];
                span[j++] = c == '!' ? (char)(src[++i] - ('a' - 'A')) : c;
            }
        });
        return true;
    }
}
