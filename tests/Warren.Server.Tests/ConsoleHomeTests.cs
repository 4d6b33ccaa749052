using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

/// <summary>The web console's anti-forgery tokens are protected by a key kept in the module index: `warren serve`
/// writes nothing into the user's home directory, not even the framework's data-protection key ring (which it would
/// create under HOME/.aspnet at start-up if its hosted service ran).</summary>
public sealed class ConsoleHomeTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("console-home");

    public void Dispose() => TestPaths.TryDeleteDirectory(_dir);

    [Fact]
    public async Task Serving_the_console_and_its_forms_writes_nothing_into_HOME()
    {
        var home = Directory.CreateDirectory(Path.Combine(_dir, "home")).FullName;
        var env = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["XDG_DATA_HOME"] = Path.Combine(home, ".local", "share"),
        };
        var authFile = Path.Combine(_dir, "auth.json");
        Assert.NotNull(Warren.Server.Auth.AuthTokens.Create(authFile, "admin", ["*"], admin: true, expires: null, DateTimeOffset.UtcNow, memoryKiB: 1024, iterations: 1).Token);
        using (var warren = await WarrenProcess.StartAsync(Path.Combine(_dir, "store"), "off", env, "--auth-file", authFile))
        {
            using var client = new HttpClient();
            var page = await client.GetStringAsync(warren.Url + "/ui/signin");

            // The sign-in form carries a token: the data protection ran.
            Assert.Contains("name=\"__warren_antiforgery\"", page, StringComparison.Ordinal);
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories));
    }
}
