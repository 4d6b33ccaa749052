using System.Text;
using System.Text.Json;

namespace Warren.Testing;

/// <summary>Runs the real go command with an isolated environment: its own HOME and module cache, no go env file, no
/// checksum database, GOPROXY pointing where the test says, nothing inherited from this process.</summary>
public sealed class GoRunner
{
    private readonly Dictionary<string, string> _env;

    public GoRunner(string proxy, string? home = null)
    {
        home ??= TestPaths.NewTempDir("gohome");
        Directory.CreateDirectory(home);
        Home = home;
        ModCache = Path.Combine(home, "modcache");
        _env = IsolatedEnvironment(proxy, home);
    }

    /// <summary>The environment of an isolated go command: its own HOME, caches and GOPATH under home, no go env
    /// file, no checksum database, GOPROXY as given, nothing inherited.</summary>
    public static Dictionary<string, string> IsolatedEnvironment(string proxy, string home) => new(StringComparer.Ordinal)
    {
        ["PATH"] = Path.GetDirectoryName(TestPaths.Go) + ":/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = home,
        ["GOENV"] = "off",
        ["GO111MODULE"] = "on",
        ["GOPROXY"] = proxy,
        ["GOSUMDB"] = "off",
        ["GONOSUMDB"] = "*",
        ["GOPRIVATE"] = "",
        ["GONOPROXY"] = "",
        ["GOINSECURE"] = "",
        ["GOFLAGS"] = "-mod=mod",
        ["GOMODCACHE"] = Path.Combine(home, "modcache"),
        ["GOCACHE"] = Path.Combine(home, "gocache"),
        ["GOPATH"] = Path.Combine(home, "gopath"),
        ["GOTOOLCHAIN"] = "local",
        ["CGO_ENABLED"] = "0",
    };

    public string Home { get; }

    public string ModCache { get; }

    /// <summary>Sets (or replaces) an environment variable.</summary>
    public GoRunner With(string key, string value)
    {
        _env[key] = value;
        return this;
    }

    /// <summary>git (run by the go command in direct mode) reads only this configuration file and never prompts.</summary>
    public GoRunner WithGitConfig(string gitConfig) =>
        With("GIT_CONFIG_GLOBAL", gitConfig).With("GIT_CONFIG_NOSYSTEM", "1").With("GIT_TERMINAL_PROMPT", "0");

    /// <summary>Runs go with these arguments in workDir; a run longer than 8 minutes is killed and a <see cref="TimeoutException"/>.</summary>
    public Task<ProcessResult> RunAsync(string workDir, params string[] args) =>
        Processes.RunAsync(TestPaths.RequireGo(), workDir, _env, args, timeout: TimeSpan.FromMinutes(8));

    /// <summary>The objects of a `go ... -json` stream.</summary>
    public static List<JsonElement> JsonStream(string text)
    {
        var list = new List<JsonElement>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            list.Add(doc.RootElement.Clone());
        }

        return list;
    }
}
