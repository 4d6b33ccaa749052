using System.Text.Json;

namespace Warren.Testing;

/// <summary>The corpus program validate/closed: a main module whose whole build list is in the corpus.</summary>
public static class ValidateClosed
{
    /// <summary>A writable copy of the program in a new temporary directory.</summary>
    public static string Copy()
    {
        var work = TestPaths.NewTempDir("closed");
        foreach (var file in Directory.GetFiles(TestPaths.ValidateClosed))
        {
            var target = Path.Combine(work, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }

        return work;
    }

    /// <summary>`go build ./...` then `go mod download -json all` in work; the downloaded modules. A failing go
    /// command, a module with an Error, or fewer than 50 modules is an exception carrying the go command's output.</summary>
    public static async Task<List<JsonElement>> BuildAndDownloadAllAsync(GoRunner go, string work)
    {
        ArgumentNullException.ThrowIfNull(go);
        var build = await go.RunAsync(work, "build", "./...").ConfigureAwait(false);
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("go build failed:\n" + build);
        }

        var download = await go.RunAsync(work, "mod", "download", "-json", "all").ConfigureAwait(false);
        var modules = GoRunner.JsonStream(download.Stdout);
        if (download.ExitCode != 0 || modules.Count < 50 || modules.Any(m => m.TryGetProperty("Error", out _)))
        {
            throw new InvalidOperationException($"go mod download all: {modules.Count} modules:\n{download}");
        }

        return modules;
    }
}
