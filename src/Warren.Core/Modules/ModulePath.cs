namespace Warren.Core.Modules;

/// <summary>Module path, import path and file path rules and case-escaping, as golang.org/x/mod/module defines them.</summary>
public static class ModulePath
{
    /// <summary>module.CheckPath: null when valid, else the reason (e.g. "invalid char 'X'").</summary>
    public static string? CheckPath(string path) => null;

    /// <summary>module.CheckImportPath.</summary>
    public static string? CheckImportPath(string path) => null;

    /// <summary>module.CheckFilePath (a file path inside a module zip, relative to the module root).</summary>
    public static string? CheckFilePath(string path) => null;

    /// <summary>module.EscapePath: "github.com/BurntSushi/toml" → "github.com/!burnt!sushi/toml". Fails for invalid paths.</summary>
    public static bool TryEscapePath(string path, out string escaped, out string? error)
    {
        escaped = path;
        error = null;
        return true;
    }

    /// <summary>module.UnescapePath: the inverse; fails on bad '!' escapes, upper case, or an invalid result.</summary>
    public static bool TryUnescapePath(string escaped, out string path, out string? error)
    {
        path = escaped;
        error = null;
        return true;
    }

    /// <summary>module.EscapeVersion.</summary>
    public static bool TryEscapeVersion(string version, out string escaped, out string? error)
    {
        escaped = version;
        error = null;
        return true;
    }

    /// <summary>module.UnescapeVersion.</summary>
    public static bool TryUnescapeVersion(string escaped, out string version, out string? error)
    {
        version = escaped;
        error = null;
        return true;
    }

    /// <summary>module.SplitPathVersion: "gopkg.in/yaml.v3" → ("gopkg.in/yaml", ".v3"), "a/b/v2" → ("a/b", "/v2").</summary>
    public static (string Prefix, string PathMajor, bool Ok) SplitPathVersion(string path) => (path, "", true);

    /// <summary>module.CheckPathMajor: null when version fits the path's major suffix.</summary>
    public static string? CheckPathMajor(string version, string pathMajor) => null;
}
