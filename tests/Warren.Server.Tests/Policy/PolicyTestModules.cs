using System.IO.Compression;
using System.Text;

namespace Warren.Server.Tests.Policy;

/// <summary>A GOPROXY directory tree of small hand-made modules for the policy tests, served by a <see cref="FakeUpstream"/>:
/// example.com/pol/lib v1.0.0 … v1.3.0 (v1.3.0's go.mod retracts v1.1.0) and example.com/pol/other v0.1.0, v0.2.0.</summary>
public sealed class PolicyTestModules : IAsyncLifetime
{
    public const string Lib = "example.com/pol/lib";
    public const string Other = "example.com/pol/other";
    public const string RetractRationale = "Published with a data race.";

    public static readonly string[] LibVersions = ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"];
    public static readonly string[] OtherVersions = ["v0.1.0", "v0.2.0"];

    public string Root { get; } = TestPaths.NewTempDir("policy-proxy");

    public FakeUpstream Upstream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        foreach (var v in LibVersions)
        {
            var retract = v == "v1.3.0" ? $"\nretract v1.1.0 // {RetractRationale}\n" : "";
            Write(Lib, v, $"module {Lib}\n\ngo 1.19\n{retract}", "lib.go", $"package lib\n\n// Version is this module's version.\nconst Version = \"{v}\"\n");
        }

        foreach (var v in OtherVersions)
        {
            Write(Other, v, $"module {Other}\n\ngo 1.19\n", "other.go", $"package other\n\nconst Version = \"{v}\"\n");
        }

        Upstream = await FakeUpstream.StartAsync(Root);
    }

    public async Task DisposeAsync() => await Upstream.DisposeAsync();

    private void Write(string module, string version, string goMod, string fileName, string source)
    {
        var dir = Path.Combine(Root, module, "@v");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, version + ".mod"), goMod);
        File.WriteAllText(Path.Combine(dir, version + ".info"), $"{{\"Version\":\"{version}\",\"Time\":\"2023-01-0{Array.IndexOf(LibVersions, version) + 2}T00:00:00Z\"}}");
        using (var zip = ZipFile.Open(Path.Combine(dir, version + ".zip"), ZipArchiveMode.Create))
        {
            foreach (var (name, content) in new[] { ("go.mod", goMod), (fileName, source) })
            {
                var entry = zip.CreateEntry($"{module}@{version}/{name}");
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        File.AppendAllText(Path.Combine(dir, "list"), version + "\n");
    }

    /// <summary>A new directory with a go.mod, for go commands that need a main module.</summary>
    public static string WorkDir()
    {
        var dir = TestPaths.NewTempDir("policy-work");
        File.WriteAllText(Path.Combine(dir, "go.mod"), "module example.com/policytest\n\ngo 1.19\n");
        return dir;
    }

    /// <summary>Writes a policy file atomically (temp file + rename), as an editor or a deployment would.</summary>
    public static void WritePolicy(string path, string json)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, path, overwrite: true);
    }
}
