using System.IO.Compression;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Vuln;

/// <summary>`warren import vulndb.zip` (the CLI, as a process) and an offline Warren serving what it brought in.</summary>
public sealed class VulnDbImportTests
{
    [Fact]
    public async Task Imported_vulndb_zip_is_served_offline_and_a_bad_zip_is_refused_with_a_message()
    {
        var dir = TestVulnDb.Write();
        var zip = Path.Combine(TestPaths.NewTempDir("vulnzip"), "vulndb.zip");
        ZipFile.CreateFromDirectory(dir, zip);
        var root = TestPaths.NewTempDir("store");
        var env = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin", ["HOME"] = TestPaths.NewTempDir("home"), ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        var import = await Processes.RunAsync("dotnet", null, env, [WarrenProcess.Dll, "import", zip, "--root", root], timeout: TimeSpan.FromMinutes(2));
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("1 entries", import.Stdout);

        await using (var warren = await WarrenInstance.StartAsync("off", o =>
        {
            o.VulnDb = "https://vuln.go.dev";
            o.Offline = true;
        }, root))
        {
            Assert.Contains(TestVulnDb.Module, await warren.Client.GetStringAsync("vuln/index.json"));
            Assert.Equal(TestVulnDb.Entry(), await warren.Client.GetStringAsync("vuln/ID/" + TestVulnDb.Id + ".json"));
        }

        var bad = Path.Combine(TestPaths.NewTempDir("badzip"), "vulndb.zip");
        await File.WriteAllTextAsync(bad, "not a zip");
        var refused = await Processes.RunAsync("dotnet", null, env, [WarrenProcess.Dll, "import", bad, "--root", root], timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("not a usable vulnerability database", refused.Stderr);
    }
}
