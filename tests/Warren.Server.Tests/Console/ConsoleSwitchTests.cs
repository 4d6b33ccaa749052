using System.Net;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Console;

/// <summary>`warren serve --console on|off`: the console's pages and JSON exist only when it is on; the proxy answers alike.</summary>
public sealed class ConsoleSwitchTests
{
    [Theory]
    [InlineData("on", HttpStatusCode.OK)]
    [InlineData("off", HttpStatusCode.NotFound)]
    public async Task The_console_is_served_only_when_it_is_on(string console, HttpStatusCode expected)
    {
        using var warren = await WarrenProcess.StartAsync(TestPaths.NewTempDir("console-" + console), "off", "--console", console);
        using var client = new HttpClient { BaseAddress = new Uri(warren.Url + "/") };

        Assert.Equal(expected, (await client.GetAsync("ui/signin")).StatusCode);
        Assert.Equal(expected, (await client.GetAsync("ui/static/console.css")).StatusCode);

        // The proxy itself is there either way: health, and a module nobody can fetch is a plain "not found".
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
        var missing = await client.GetAsync("example.com/none/@v/list");
        Assert.True(missing.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone, $"list answered {(int)missing.StatusCode}");
    }
}
