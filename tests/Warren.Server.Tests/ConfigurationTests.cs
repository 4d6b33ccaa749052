using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warren.Server.Configuration;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public void Go_variables_then_go_defaults_fill_what_was_not_given()
    {
        var env = new Dictionary<string, string?>
        {
            ["GOPROXY"] = "https://corp.example/proxy|https://proxy.golang.org,direct",
            ["GOPRIVATE"] = "*.corp.example",
            ["GONOSUMDB"] = "github.com/corp/*",
            ["HOME"] = "/home/u",
        };
        var o = new WarrenOptions();
        GoEnvironment.ApplyDefaults(o, k => env.GetValueOrDefault(k));
        Assert.Equal("https://corp.example/proxy|https://proxy.golang.org,direct", o.Upstream);
        Assert.Equal("sum.golang.org", o.SumDb);
        Assert.Equal("*.corp.example", o.NoProxy);
        Assert.Equal("github.com/corp/*", o.NoSumDb);
        Assert.Equal(Path.Combine("/home/u", ".cache", "warren", "download"), o.Root);

        var none = new WarrenOptions { Upstream = "off" };
        GoEnvironment.ApplyDefaults(none, _ => null);
        Assert.Equal("off", none.Upstream);
        Assert.Equal("", none.NoProxy);
        var defaults = new WarrenOptions();
        GoEnvironment.ApplyDefaults(defaults, k => k == "XDG_CACHE_HOME" ? "/xdg" : null);
        Assert.Equal("https://proxy.golang.org,direct", defaults.Upstream);
        Assert.Equal(Path.Combine("/xdg", "warren", "download"), defaults.Root);
    }

    [Fact]
    public async Task Flags_win_over_WARREN_variables_which_win_over_appsettings()
    {
        var dir = TestPaths.NewTempDir("config");
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"),
            """{ "Warren": { "Upstream": "https://from-appsettings.example", "SumDb": "off", "NoProxy": "from.appsettings/*", "ListTtl": "00:00:42" } }""");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { WarrenProcess.Dll, "serve", "--listen", "127.0.0.1:1", "--root", Path.Combine(dir, "store"), "--no-sumdb", "[bad-from-flag" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["WARREN_NO_PROXY"] = "[bad-from-env";
        psi.Environment["WARREN_UPSTREAM"] = "ftp://from-env.example";
        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        // Exit code 2 and one line per problem; each value came from the layer that should win.
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("invalid configuration: upstream \"ftp://from-env.example\"", stderr);
        Assert.Contains("no-proxy \"[bad-from-env\"", stderr);
        Assert.Contains("no-sumdb \"[bad-from-flag\"", stderr);
        Assert.DoesNotContain("from-appsettings", stderr);
    }

    [Fact]
    public async Task Appsettings_values_are_used_when_nothing_overrides_them()
    {
        var dir = TestPaths.NewTempDir("config");
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"),
            """{ "Warren": { "Upstream": "https://from-appsettings.example", "ListTtl": "00:00:42" } }""");
        var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = Path.Combine(dir, "store");
        }, getEnv: _ => null, contentRoot: dir);
        var options = app.Services.GetRequiredService<IOptions<WarrenOptions>>().Value;
        Assert.Equal("https://from-appsettings.example", options.Upstream);
        Assert.Equal(TimeSpan.FromSeconds(42), options.ListTtl);
        await app.DisposeAsync();
    }
}
