using Warren.Tools.GoEnv;

namespace Warren.Tools.Tests;

public sealed class GoEnvironmentSnapshotTests
{
    [Fact]
    public async Task Go_env_runs_in_the_module_directory_so_its_workspace_counts()
    {
        var home = TestPaths.NewTempDir("goenv-home");
        var env = GoRunner.IsolatedEnvironment("off", home).ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.Ordinal);
        var module = TestPaths.NewTempDir("goenv-module");
        await File.WriteAllTextAsync(Path.Combine(module, "go.mod"), "module example.com/m\n\ngo 1.19\n");
        await File.WriteAllTextAsync(Path.Combine(module, "go.work"), "go 1.19\n\nuse .\n");

        var inModule = await GoEnvironmentSnapshot.LoadAsync(env, TestPaths.RequireGo(), CancellationToken.None, module);
        Assert.Equal("go env", inModule.Source);
        Assert.Equal(Path.Combine(module, "go.work"), inModule["GOWORK"]);
        Assert.Equal("off", inModule["GOPROXY"]);

        var elsewhere = await GoEnvironmentSnapshot.LoadAsync(env, TestPaths.RequireGo(), CancellationToken.None, home);
        Assert.Equal("", elsewhere["GOWORK"]);

        var noGo = GoEnvironmentSnapshot.FromEnvironment(new Dictionary<string, string?> { ["HOME"] = home, ["GOPRIVATE"] = "corp.example" });
        Assert.Equal("environment", noGo.Source);
        Assert.Equal(Path.Combine(home, "go", "pkg", "mod"), noGo["GOMODCACHE"]);
        Assert.Equal("corp.example", noGo["GONOSUMDB"]);
        Assert.Equal("https://proxy.golang.org,direct", noGo["GOPROXY"]);
    }
}
