namespace Warren.Deploy.Tests;

/// <summary>The container tests run one after another: they share one self-contained publish of warren and the local
/// base images, and podman builds are heavy on a shared machine.</summary>
[CollectionDefinition(Name)]
public sealed class PodmanCollection : ICollectionFixture<DeployFixture>
{
    public const string Name = "podman";
}

/// <summary>What the container tests need, made once per run: the local Debian base image (shared/services/base-image.sh,
/// cached by podman across runs), a base with the host's libssl3 for the Warren image (the test builds may not reach a
/// package mirror), and a self-contained `dotnet publish` of src/Warren.Cli laid out as the offline build context of
/// deploy/Dockerfile (publish/ and deploy/healthcheck.sh). Anything missing is a failure saying why, never a skip.</summary>
public sealed class DeployFixture : IAsyncLifetime
{
    private static readonly string[] HostLibraries = ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"];

    /// <summary>The minimal Debian 12 image from base-image.sh (bash, coreutils; no curl, no libssl).</summary>
    public string DebianImage { get; private set; } = "";

    /// <summary><see cref="DebianImage"/> plus the host's libssl3, the base the Warren image is built on here.</summary>
    public string RuntimeBaseImage { get; } = Podman.NewImageName("base");

    /// <summary>The offline build context of deploy/Dockerfile: publish/ and deploy/healthcheck.sh.</summary>
    public string ContextDir { get; private set; } = "";

    /// <summary>The self-contained warren executable of the publish.</summary>
    public string WarrenExecutable => Path.Combine(ContextDir, "publish", "warren");

    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new InvalidOperationException("the container tests need Linux with podman (shared/services/base-image.sh installs it on Debian)");
        }

        DebianImage = await EnsureDebianImageAsync();
        ContextDir = TestPaths.NewTempDir("deploy-context");
        await PublishAsync(Path.Combine(ContextDir, "publish"));
        var deploy = Path.Combine(ContextDir, "deploy");
        Directory.CreateDirectory(deploy);
        File.Copy(Path.Combine(TestPaths.RepoRoot, "deploy", "healthcheck.sh"), Path.Combine(deploy, "healthcheck.sh"));
        await BuildRuntimeBaseAsync();
    }

    public async Task DisposeAsync() => await Podman.RemoveImagesAsync(RuntimeBaseImage);

    /// <summary>Runs base-image.sh, which installs podman if needed and creates the image once; prints its name.</summary>
    private static async Task<string> EnsureDebianImageAsync()
    {
        var script = Path.Combine(TestPaths.Shared, "services", "base-image.sh");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} not found: set WARREN_SHARED to the shared folder");
        }

        var result = await Processes.RunAsync("bash", null, null, [script], timeout: TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            // The shared script finds no mirror where apt's sources are only in deb822 form: the same steps, with the
            // mirror read from those.
            var fallback = Path.Combine(TestPaths.RepoRoot, "tests", "Warren.Deploy.Tests", "make-base-image.sh");
            var second = await Processes.RunAsync("bash", null, null, [fallback], timeout: TimeSpan.FromMinutes(10));
            if (second.ExitCode == 0)
            {
                result = second;
            }
            else
            {
                throw new InvalidOperationException($"the local base image could not be made with {script} ({result}) nor with {fallback} ({second}); it needs root or sudo, podman and debootstrap, and a Debian mirror in apt's sources");
            }
        }

        var name = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidOperationException($"the local base image script printed no image name: {result}");
        }

        return name;
    }

    /// <summary>dotnet publish of src/Warren.Cli, self-contained for linux-x64, so the image needs no .NET runtime.</summary>
    private static async Task PublishAsync(string output)
    {
        var project = Path.Combine(TestPaths.RepoRoot, "src", "Warren.Cli");
        // The test host's MSBuild variables would point a nested dotnet at the wrong SDK pieces.
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var key = (string)e.Key;
            if (!key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) && !key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                env[key] = (string?)e.Value ?? "";
            }
        }

        var result = await Processes.RunAsync("dotnet", TestPaths.RepoRoot, env,
            ["publish", project, "-c", "Release", "-r", "linux-x64", "--self-contained", "-o", output, "--nologo"], timeout: TimeSpan.FromMinutes(15));
        if (result.ExitCode != 0 || !File.Exists(Path.Combine(output, "warren")))
        {
            throw new InvalidOperationException($"dotnet publish of {project} failed: {result}");
        }
    }

    /// <summary>The Debian base plus libssl3 copied from this (Debian 12) host: .NET's cryptography loads it, and an
    /// apt-get in the build would leave the machine.</summary>
    private async Task BuildRuntimeBaseAsync()
    {
        var dir = TestPaths.NewTempDir("deploy-base");
        foreach (var lib in HostLibraries)
        {
            if (!File.Exists(lib))
            {
                throw new InvalidOperationException($"{lib} not found: the test image takes libssl3 from the host (Debian 12: apt-get install libssl3)");
            }

            File.Copy(lib, Path.Combine(dir, Path.GetFileName(lib)));
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "Dockerfile"),
            $"FROM {DebianImage}\nCOPY libssl.so.3 libcrypto.so.3 /usr/lib/x86_64-linux-gnu/\nRUN ldconfig\n");
        var result = await Podman.BuildAsync([.. Podman.BuildArgs(Path.Combine(dir, "Dockerfile"), RuntimeBaseImage), dir]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the runtime base image could not be built: {Podman.Tail(result)}");
        }
    }
}
