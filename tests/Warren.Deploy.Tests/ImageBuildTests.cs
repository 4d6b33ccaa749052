using System.Security.Cryptography;
using System.Text.Json;

namespace Warren.Deploy.Tests;

/// <summary>deploy/Dockerfile built offline from a self-contained publish, then exercised in a build step of a
/// second image that starts from it.</summary>
[Collection(PodmanCollection.Name)]
public sealed class ImageBuildTests(DeployFixture fixture)
{
    private const string Marker = "WARREN-IMAGE-CHECK-OK";

    [Fact]
    public async Task The_image_serves_a_module_in_a_build_step()
    {
        var module = Manifest.Get("github.com/BurntSushi/toml", "v1.2.0");
        var zipPath = $"{Manifest.Escape(module.Path)}/@v/{Manifest.Escape(module.Version)}.zip";
        var zipSha256 = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(module.ZipPath)));
        var image = Podman.NewImageName("warren");
        var check = Podman.NewImageName("check");
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        try
        {
            // The image, as users build it offline: the publish from the context, the base given, no packages installed.
            var build = await Podman.BuildAsync([
                .. Podman.BuildArgs(Path.Combine(TestPaths.RepoRoot, "deploy", "Dockerfile"), image),
                "--build-arg", "BASE=" + fixture.RuntimeBaseImage,
                "--build-arg", "WARREN_FROM=context",
                "--build-arg", "APT_PACKAGES=",
                fixture.ContextDir,
            ]);
            Assert.True(build.ExitCode == 0, "deploy/Dockerfile did not build: " + Podman.Tail(build));

            var inspected = await Podman.InspectAsync(image);
            var config = inspected.GetProperty("Config");
            Assert.Equal("10001:10001", config.GetProperty("User").GetString());
            Assert.True(config.GetProperty("Volumes").TryGetProperty("/data", out _), "no /data volume: " + config);
            Assert.True(config.GetProperty("ExposedPorts").TryGetProperty("3000/tcp", out _), "port 3000 not exposed: " + config);
            Assert.Equal(["warren"], Strings(config.GetProperty("Entrypoint")));
            Assert.Equal(["serve"], Strings(config.GetProperty("Cmd")));
            var env = Strings(config.GetProperty("Env"));
            Assert.Contains("WARREN_LISTEN=0.0.0.0:3000", env);
            Assert.Contains("WARREN_ROOT=/data", env);
            var healthcheck = HealthcheckTest(inspected);
            Assert.True(healthcheck is ["CMD", "/opt/warren/healthcheck"], "HEALTHCHECK: " + string.Join(' ', healthcheck));

            // A build step of an image FROM it: serve, health check, fetch through it, compare the zip.
            var dir = TestPaths.NewTempDir("deploy-check");
            await File.WriteAllTextAsync(Path.Combine(dir, "go.sum"),
                $"{module.Path} {module.Version} {module.ZipHash}\n{module.Path} {module.Version}/go.mod {module.ModHash}\n");
            var port = Loopback.FreePort();
            var run = await Podman.BuildAsync([
                .. Podman.BuildArgs(Path.Combine(AppContext.BaseDirectory, "ImageCheck.Dockerfile"), check),
                "--build-arg", "IMAGE=" + image,
                "--build-arg", "UPSTREAM=" + upstream.Url,
                "--build-arg", "PORT=" + port,
                "--build-arg", "ZIP_PATH=" + zipPath,
                "--build-arg", "ZIP_SHA256=" + zipSha256,
                dir,
            ]);
            var output = run.Stdout + run.Stderr;
            Assert.True(run.ExitCode == 0 && output.Contains(Marker, StringComparison.Ordinal), "the check build failed: " + Podman.Tail(run));
            Assert.Contains("running as uid=10001 gid=10001", output, StringComparison.Ordinal);
            Assert.Contains("CHECK healthcheck passed", output, StringComparison.Ordinal);
            Assert.Contains($"{zipPath}: OK", output, StringComparison.Ordinal);
            Assert.True(upstream.HitsFor("/" + zipPath) >= 1, "the Warren in the image never asked the upstream for the zip: " + string.Join(", ", upstream.Requests));
        }
        finally
        {
            await Podman.RemoveImagesAsync(check, image);
        }
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString() ?? "")];

    /// <summary>The HEALTHCHECK command: podman shows a docker-format image's under Healthcheck (Config.Healthcheck in docker).</summary>
    private static string[] HealthcheckTest(JsonElement image)
    {
        foreach (var holder in new[] { image, image.GetProperty("Config") })
        {
            if (holder.TryGetProperty("Healthcheck", out var h) && h.ValueKind == JsonValueKind.Object && h.TryGetProperty("Test", out var test))
            {
                return Strings(test);
            }
        }

        return [];
    }
}
