using System.Text.Json;
using System.Text.RegularExpressions;

namespace Warren.Deploy.Tests;

/// <summary>The podman CLI as these tests use it: builds with chroot isolation and the host's network (what works on
/// machines without a registry and without `podman run`), image inspection and removal.</summary>
internal static partial class Podman
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The arguments every build gets: chroot isolation, the host network (RUN steps reach 127.0.0.1 of the
    /// host), the docker image format (the OCI format has no HEALTHCHECK), no layer cache.</summary>
    public static List<string> BuildArgs(string dockerfile, string tag) =>
        ["build", "--isolation=chroot", "--network=host", "--format", "docker", "--no-cache", "-f", dockerfile, "-t", tag];

    /// <summary>Runs `podman build`; the result holds its whole output (steps and RUN output). The images the build
    /// committed without a name (earlier stages, steps) are removed afterwards; the tagged one is the caller's.</summary>
    public static async Task<ProcessResult> BuildAsync(IEnumerable<string> args)
    {
        var result = await Processes.RunAsync("podman", null, null, args, timeout: BuildTimeout);
        var committed = CommittedImage().Matches(result.Stdout).Select(m => m.Groups[1].Value).Distinct().ToList();
        var tagged = (await Processes.RunAsync("podman", null, null, ["images", "--noheading", "--no-trunc", "--format", "{{.ID}} {{.Repository}}"], timeout: TimeSpan.FromMinutes(1)))
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ')).Where(f => f.Length == 2 && f[1] != "<none>").Select(f => f[0]).ToList();
        foreach (var id in Enumerable.Reverse(committed))
        {
            if (!tagged.Any(t => t.Replace("sha256:", "", StringComparison.Ordinal).StartsWith(id, StringComparison.Ordinal)))
            {
                await Processes.RunAsync("podman", null, null, ["rmi", id], timeout: TimeSpan.FromMinutes(1));
            }
        }

        return result;
    }

    /// <summary>"--&gt; 0123456789a", the line buildah prints for each image it commits.</summary>
    [GeneratedRegex(@"^--> ([0-9a-f]{11,64})\s*$", RegexOptions.Multiline)]
    private static partial Regex CommittedImage();

    /// <summary>`podman image inspect IMAGE` parsed: the one image's object.</summary>
    public static async Task<JsonElement> InspectAsync(string image)
    {
        var result = await Processes.RunCheckedAsync("podman", null, null, "image", "inspect", image);
        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement[0].Clone();
    }

    /// <summary>Removes images by name; failures (already gone) are ignored.</summary>
    public static async Task RemoveImagesAsync(params string[] images)
    {
        foreach (var image in images)
        {
            await Processes.RunAsync("podman", null, null, ["rmi", "--force", image], timeout: TimeSpan.FromMinutes(2));
        }
    }

    /// <summary>A new image name of these tests, unique to this run.</summary>
    public static string NewImageName(string what) => $"localhost/warren-deploy-test-{what}:{Guid.NewGuid():N}";

    /// <summary>A build's output for an assertion message: the last lines, where the failure is.</summary>
    public static string Tail(ProcessResult result, int lines = 80)
    {
        var all = (result.Stdout + "\n" + result.Stderr).Split('\n');
        return $"exit {result.ExitCode}\n" + string.Join('\n', all.TakeLast(lines));
    }
}
