using System.Diagnostics;
using System.Text.Json;

namespace Warren.Tools.GoEnv;

/// <summary>The go command's settings as the machine sees them: `go env -json` when a go binary is present, else the
/// process environment with the go command's defaults filled in.</summary>
public sealed class GoEnvironmentSnapshot
{
    private static readonly string[] Keys =
    [
        "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOFLAGS", "GOINSECURE", "GOMODCACHE", "GOCACHE", "GOPATH",
        "GO111MODULE", "GOVERSION", "GOROOT", "GOENV", "GOTOOLCHAIN",
    ];

    private readonly Dictionary<string, string> _values;

    public GoEnvironmentSnapshot(IReadOnlyDictionary<string, string> values, string source, string? goBinary)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = new Dictionary<string, string>(values, StringComparer.Ordinal);
        Source = source;
        GoBinary = goBinary;
    }

    /// <summary>"go env" or "environment".</summary>
    public string Source { get; }

    /// <summary>The go binary used, or null.</summary>
    public string? GoBinary { get; }

    public string this[string key] => _values.TryGetValue(key, out var v) ? v : "";

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>Reads the settings: runs `go env -json` (goBinary, else `go` on PATH, else none) with the given
    /// environment, in workingDirectory when given (a module's go.work and toolchain settings apply there); falls back to
    /// the environment and the go defaults.</summary>
    public static async Task<GoEnvironmentSnapshot> LoadAsync(IReadOnlyDictionary<string, string?> environment, string? goBinary,
        CancellationToken cancellationToken, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var go = goBinary ?? FindOnPath("go", environment.GetValueOrDefault("PATH"));
        if (go is not null)
        {
            var values = await TryGoEnvAsync(go, environment, workingDirectory, cancellationToken).ConfigureAwait(false);
            if (values is not null)
            {
                return new GoEnvironmentSnapshot(values, "go env", go);
            }
        }

        return FromEnvironment(environment);
    }

    /// <summary>The environment with the go command's defaults for what it does not set.</summary>
    public static GoEnvironmentSnapshot FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in Keys)
        {
            if (environment.GetValueOrDefault(key) is { } v)
            {
                values[key] = v;
            }
        }

        string Default(string key, string value) => values[key] = values.TryGetValue(key, out var v) && v.Length > 0 ? v : value;
        var home = environment.GetValueOrDefault("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Default("GOPROXY", "https://proxy.golang.org,direct");
        Default("GOSUMDB", "sum.golang.org");
        var gopath = Default("GOPATH", Path.Combine(home, "go"));
        Default("GOMODCACHE", Path.Combine(gopath.Split(':')[0], "pkg", "mod"));
        var cacheHome = environment.GetValueOrDefault("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".cache");
        Default("GOCACHE", Path.Combine(cacheHome, "go-build"));
        var goPrivate = values.GetValueOrDefault("GOPRIVATE") ?? "";
        Default("GONOPROXY", goPrivate);
        Default("GONOSUMDB", goPrivate);
        return new GoEnvironmentSnapshot(values, "environment", null);
    }

    private static async Task<Dictionary<string, string>?> TryGoEnvAsync(string go, IReadOnlyDictionary<string, string?> environment,
        string? workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(go, ["env", "-json"])
        {
            WorkingDirectory = workingDirectory is not null && Directory.Exists(workingDirectory) ? workingDirectory : "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Clear();
        foreach (var (k, v) in environment)
        {
            if (v is not null)
            {
                start.Environment[k] = v;
            }
        }

        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var text = await stdout.ConfigureAwait(false);
            await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                return null;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            using var doc = JsonDocument.Parse(text);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                values[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString();
            }

            return values;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The first executable called name on PATH, or null.</summary>
    public static string? FindOnPath(string name, string? path)
    {
        foreach (var dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>This process's environment as a dictionary.</summary>
    public static Dictionary<string, string?> ProcessEnvironment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value;
        }

        return env;
    }
}
