using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Warren.Server.Tests.Infrastructure;

public sealed record GoResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the real go command with an isolated environment: fresh module cache, GOPROXY pointing where the test says.</summary>
public sealed class GoRunner
{
    private readonly Dictionary<string, string> _env;

    public GoRunner(string proxy, string? home = null)
    {
        home ??= TestPaths.NewTempDir("gohome");
        ModCache = Path.Combine(home, "modcache");
        _env = new Dictionary<string, string>
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
            ["GOMODCACHE"] = ModCache,
            ["GOCACHE"] = Path.Combine(home, "gocache"),
            ["GOPATH"] = Path.Combine(home, "gopath"),
            ["GOTOOLCHAIN"] = "local",
            ["CGO_ENABLED"] = "0",
        };
    }

    public string ModCache { get; }

    public GoRunner With(string key, string value)
    {
        _env[key] = value;
        return this;
    }

    public async Task<GoResult> RunAsync(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(TestPaths.Go)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in _env)
        {
            psi.Environment[k] = v;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("go " + string.Join(' ', args) + " did not finish in 8 minutes");
        }

        return new GoResult(process.ExitCode, await stdout, await stderr);
    }

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
