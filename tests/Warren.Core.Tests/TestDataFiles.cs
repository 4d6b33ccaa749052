using System.Text.Json;

namespace Warren.Core.Tests;

/// <summary>Locates tests/Warren.Core.Tests/TestData by walking up from the test binaries (the files are not copied to
/// the output directory).</summary>
internal static class TestDataFiles
{
    private static readonly Lazy<string> Dir = new(Find);

    public static string Path(string name) => System.IO.Path.Combine(Dir.Value, name);

    public static JsonDocument Json(string name) => JsonDocument.Parse(File.ReadAllBytes(Path(name)));

    private static string Find()
    {
        string relative = System.IO.Path.Combine("tests", "Warren.Core.Tests", "TestData");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"no {relative} above {AppContext.BaseDirectory}");
    }
}
