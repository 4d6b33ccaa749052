using Warren.Tools.Doctor;
using Warren.Tools.GoEnv;
using Warren.Tools.Reporting;

namespace Warren.Tools.Tests.Doctor;

/// <summary>An isolated environment for the go command and git (as GoRunner builds it) and a doctor run over it.</summary>
internal static class DoctorSupport
{
    /// <summary>HOME, caches and GOPROXY of their own; GOSUMDB off unless the test says otherwise; git sees no user or
    /// system configuration.</summary>
    public static Dictionary<string, string?> Environment(string proxy, string? home = null)
    {
        home ??= TestPaths.NewTempDir("doctor-home");
        var env = GoRunner.IsolatedEnvironment(proxy, home).ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.Ordinal);
        env["GONOSUMDB"] = "";
        env["GIT_CONFIG_NOSYSTEM"] = "1";
        env["GIT_CONFIG_GLOBAL"] = "/dev/null";
        return env;
    }

    /// <summary>`go env -json` with the real go binary, then every check.</summary>
    public static async Task<Report> RunAsync(Dictionary<string, string?> env, string moduleDir, double timeoutSeconds = 5)
    {
        var snapshot = await GoEnvironmentSnapshot.LoadAsync(env, TestPaths.RequireGo(), CancellationToken.None);
        Assert.Equal("go env", snapshot.Source);
        var runner = new DoctorRunner(snapshot, new DoctorOptions
        {
            ModuleDir = moduleDir,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            Environment = env,
        });
        return await runner.RunAsync(null, CancellationToken.None);
    }

    /// <summary>A GoRunner with exactly this environment.</summary>
    public static GoRunner Go(Dictionary<string, string?> env)
    {
        var go = new GoRunner(env["GOPROXY"]!, env["HOME"]);
        foreach (var (k, v) in env)
        {
            go.With(k, v ?? "");
        }

        return go;
    }

    public static IEnumerable<Finding> Of(this Report report, string check) => report.Findings.Where(f => f.Check == check);

    public static string Dump(this Report report) => report.ToJson();
}
