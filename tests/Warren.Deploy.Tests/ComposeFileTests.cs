using System.Text.Json;

namespace Warren.Deploy.Tests;

/// <summary>deploy/compose.yaml read as compose reads it (YAML with merge keys, by PyYAML) and checked against what the
/// cluster needs; no container engine with compose runs here.</summary>
public sealed class ComposeFileTests
{
    private static readonly string[] Nodes = ["warren-1", "warren-2", "warren-3"];

    [Fact]
    public async Task The_compose_file_runs_three_nodes_on_shared_storage_behind_nginx()
    {
        var services = (await LoadAsync()).GetProperty("services");

        var volumes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in Nodes)
        {
            var s = services.GetProperty(node);
            Assert.Equal("warren:local", s.GetProperty("image").GetString());
            Assert.Equal("deploy/Dockerfile", s.GetProperty("build").GetProperty("dockerfile").GetString());
            var command = Strings(s.GetProperty("command"));
            Assert.Equal("serve", command[0]);
            Assert.Equal("http://minio:9000", After(command, "--s3-endpoint"));
            Assert.StartsWith("s3://", After(command, "--store"), StringComparison.Ordinal);
            Assert.Contains("--s3-path-style", command);
            var env = s.GetProperty("environment");
            Assert.StartsWith("postgres://warren:", env.GetProperty("WARREN_INDEX").GetString(), StringComparison.Ordinal);
            Assert.EndsWith("@postgres:5432/warren", env.GetProperty("WARREN_INDEX").GetString(), StringComparison.Ordinal);
            Assert.True(env.TryGetProperty("AWS_ACCESS_KEY_ID", out _) && env.TryGetProperty("AWS_SECRET_ACCESS_KEY", out _), node + ": no S3 credentials");
            var data = Assert.Single(Strings(s.GetProperty("volumes")));
            Assert.EndsWith(":/data", data, StringComparison.Ordinal);
            Assert.True(volumes.Add(data), node + " shares its /data volume: " + data);
            var depends = s.GetProperty("depends_on");
            Assert.Equal("service_healthy", depends.GetProperty("postgres").GetProperty("condition").GetString());
            Assert.Equal("service_completed_successfully", depends.GetProperty("minio-init").GetProperty("condition").GetString());
        }

        var nginx = services.GetProperty("nginx");
        Assert.Contains("./nginx.conf:/etc/nginx/nginx.conf:ro", Strings(nginx.GetProperty("volumes")));
        Assert.EndsWith(":8080", Assert.Single(Strings(nginx.GetProperty("ports"))), StringComparison.Ordinal);
        Assert.Equal(Nodes, Strings(nginx.GetProperty("depends_on")));
        Assert.Equal("postgres:15", services.GetProperty("postgres").GetProperty("image").GetString());
        Assert.Contains("minio", services.GetProperty("minio").GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Contains("mc mb", string.Join(' ', Strings(services.GetProperty("minio-init").GetProperty("entrypoint"))), StringComparison.Ordinal);

        // nginx.conf balances exactly these nodes on the port the image listens on.
        var conf = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "deploy", "nginx.conf"));
        foreach (var node in Nodes)
        {
            Assert.Contains($"server {node}:3000 ", conf, StringComparison.Ordinal);
        }

        Assert.Contains("listen 8080;", conf, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> LoadAsync()
    {
        var file = Path.Combine(TestPaths.RepoRoot, "deploy", "compose.yaml");
        var result = await Processes.RunAsync("python3", null, null,
            ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", file]);
        Assert.True(result.ExitCode == 0, $"{file} could not be read with PyYAML (Debian: apt-get install python3-yaml): {result}");
        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString() ?? "")];

    private static string After(string[] command, string flag)
    {
        var i = Array.IndexOf(command, flag);
        Assert.True(i >= 0 && i + 1 < command.Length, $"no {flag} VALUE in {string.Join(' ', command)}");
        return command[i + 1];
    }
}
