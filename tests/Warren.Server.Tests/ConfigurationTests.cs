using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
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
        var o = new WarrenOptionsBuilder();
        GoEnvironment.ApplyDefaults(o, k => env.GetValueOrDefault(k));
        Assert.Equal("https://corp.example/proxy|https://proxy.golang.org,direct", o.Upstream);
        Assert.Equal("sum.golang.org", o.SumDb);
        Assert.Equal("*.corp.example", o.NoProxy);
        Assert.Equal("github.com/corp/*", o.NoSumDb);
        Assert.Equal(Path.Combine("/home/u", ".cache", "warren", "download"), o.Root);

        var none = new WarrenOptionsBuilder { Upstream = "off" };
        GoEnvironment.ApplyDefaults(none, _ => null);
        Assert.Equal("off", none.Upstream);
        Assert.Equal("", none.NoProxy);
        var defaults = new WarrenOptionsBuilder();
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

    [Fact]
    public void In_a_cgi_environment_the_upper_case_http_proxy_is_not_read()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["REQUEST_METHOD"] = "GET",
            ["HTTP_PROXY"] = "http://from-a-client-header.example:3128",
            ["HTTPS_PROXY"] = "http://secure.example:3129",
        };
        Assert.Equal(new ProxyEnvironment(null, "http://secure.example:3129", null, null), GoEnvironment.ReadProxies(env.GetValueOrDefault));
        env["http_proxy"] = "http://lower.example:3128";
        Assert.Equal("http://lower.example:3128", GoEnvironment.ReadProxies(env.GetValueOrDefault).HttpProxy);
        env.Remove("REQUEST_METHOD");
        Assert.Equal("http://from-a-client-header.example:3128", GoEnvironment.ReadProxies(env.GetValueOrDefault).HttpProxy);
    }

    [Fact]
    public void The_proxy_variables_are_read_once_by_the_environment_hook_upper_case_first()
    {
        var reads = new Dictionary<string, int>(StringComparer.Ordinal);
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["HTTP_PROXY"] = "http://upper.example:3128",
            ["http_proxy"] = "http://lower.example:3128",
            ["https_proxy"] = "http://secure.example:3129",
            ["NO_PROXY"] = "127.0.0.1,.corp.example",
        };
        string? GetEnv(string name)
        {
            reads[name] = reads.GetValueOrDefault(name) + 1;
            return env.GetValueOrDefault(name);
        }

        var draft = new WarrenOptionsBuilder { Upstream = "off", VulnDb = "off" };
        GoEnvironment.ApplyDefaults(draft, GetEnv);
        GoEnvironment.ApplyDefaults(draft, GetEnv);
        var options = draft.Build();
        Assert.Equal(new ProxyEnvironment("http://upper.example:3128", "http://secure.example:3129", null, "127.0.0.1,.corp.example"), options.EnvironmentProxies);
        foreach (var name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY" })
        {
            Assert.Equal(1, reads[name]);
        }

        // The outbound policy allows the proxies the options carry, not whatever the process environment says now.
        var endpoints = Warren.Server.Egress.EgressServices.ImplicitEndpoints(options).ToList();
        Assert.Contains(("upper.example", 3128), endpoints);
        Assert.Contains(("secure.example", 3129), endpoints);
        Assert.DoesNotContain(("lower.example", 3128), endpoints);
        Assert.Empty(Warren.Server.Egress.EgressServices.ImplicitEndpoints(new WarrenOptions { Upstream = "off", VulnDb = "off" }));

        // Past the hook nothing reads the variables again: the outbound handler's proxy is the one the options carry...
        var handler = Assert.IsType<SocketsHttpHandler>(Upstream.HttpDownloader.CreateHandler(options));
        Assert.True(handler.UseProxy);
        var proxy = handler.Proxy!;
        Assert.Equal(new Uri("http://secure.example:3129"), proxy.GetProxy(new Uri("https://proxy.golang.org/")));
        Assert.Equal(new Uri("http://upper.example:3128"), proxy.GetProxy(new Uri("http://proxy.golang.org/")));
        Assert.True(proxy.IsBypassed(new Uri("https://git.corp.example/")));
        Assert.True(proxy.IsBypassed(new Uri("http://127.0.0.1:8080/")));
        Assert.False(proxy.IsBypassed(new Uri("https://proxy.golang.org/")));

        // ...and without proxies in the options there is none: not .NET's default proxy, which reads the environment itself.
        var none = Assert.IsType<SocketsHttpHandler>(Upstream.HttpDownloader.CreateHandler(new WarrenOptions { Upstream = "off", VulnDb = "off" }));
        Assert.False(none.UseProxy);
        Assert.Null(none.Proxy);

        // ALL_PROXY serves a scheme without its own proxy; a user and password in a proxy URL go to that proxy only.
        var all = Upstream.OutboundProxy.FromEnvironment(new ProxyEnvironment(null, "http://u%40corp:p%3Aw@secure.example:3129", "socks5://all.example:1080", null))!;
        Assert.Equal(new Uri("socks5://all.example:1080"), all.GetProxy(new Uri("http://proxy.golang.org/")));
        Assert.Equal("http://secure.example:3129/", all.GetProxy(new Uri("https://proxy.golang.org/"))!.AbsoluteUri);
        var credential = all.Credentials!.GetCredential(new Uri("http://secure.example:3129"), "Basic")!;
        Assert.Equal(("u@corp", "p:w"), (credential.UserName, credential.Password));
        Assert.Null(all.Credentials.GetCredential(new Uri("socks5://all.example:1080"), "Basic"));
        Assert.Null(Upstream.OutboundProxy.FromEnvironment(new ProxyEnvironment(null, null, null, "127.0.0.1")));
    }

    [Fact]
    public void Options_are_frozen_once_built_and_the_builder_carries_every_option()
    {
        foreach (var property in typeof(WarrenOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is { IsPublic: true } setter)
            {
                Assert.True(setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)), $"WarrenOptions.{property.Name} has a public setter");
            }
        }

        // Every option the builder has reaches the built options (a new option added to one and not the other fails here).
        var settable = typeof(WarrenOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).ToList();
        var builderProperties = typeof(WarrenOptionsBuilder).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(settable.Select(p => p.Name).Order(StringComparer.Ordinal), builderProperties.Order(StringComparer.Ordinal));
        // And the builder's defaults are the options' defaults.
        var defaults = new WarrenOptions();
        var fromBuilder = new WarrenOptionsBuilder().Build();
        foreach (var property in typeof(WarrenOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != nameof(WarrenOptions.GitCredentials)))
        {
            Assert.True(Equals(property.GetValue(defaults), property.GetValue(fromBuilder)), $"default of {property.Name} differs between the builder and the options");
        }

        Assert.Empty(fromBuilder.GitCredentials);

        var draft = new WarrenOptionsBuilder
        {
            Root = "/srv/warren",
            ImmutableMaxAge = TimeSpan.FromHours(1),
            MirrorQuota = "2G",
            MaxRepoSize = "12 parsecs",
            OpenFiles = 7,
            MirrorMaxIdle = TimeSpan.FromDays(3),
            EnvironmentProxies = new ProxyEnvironment("http://p:1", null, null, null),
        };
        draft.GitCredentials["git.example.com"] = "user:secret";
        var built = draft.Build();
        draft.GitCredentials["git.example.com"] = "changed";
        draft.OpenFiles = 8;
        Assert.Equal("user:secret", built.GitCredentials["GIT.example.com"]);
        Assert.Equal(7, built.OpenFiles);
        Assert.Equal("/srv/warren", built.Root);
        Assert.Equal(TimeSpan.FromDays(3), built.MirrorMaxIdle);
        Assert.Equal("http://p:1", built.EnvironmentProxies.HttpProxy);

        // Derived values are computed when the option is set, never while serving.
        Assert.Equal("public, max-age=3600, immutable", built.ImmutableCacheControl);
        Assert.Equal("public, max-age=31536000, immutable", new WarrenOptions().ImmutableCacheControl);
        Assert.Equal("public, max-age=60, immutable", (built with { ImmutableMaxAge = TimeSpan.FromMinutes(1) }).ImmutableCacheControl);
        Assert.Equal(2L << 30, built.MirrorQuotaSize.Bytes);
        Assert.Null(built.MaxRepoSizeSize.Bytes);
        Assert.Contains("invalid size", built.MaxRepoSizeSize.Error, StringComparison.Ordinal);
        Assert.Equal(default, new WarrenOptions().MirrorQuotaSize);
        var problems = new WarrenOptionsValidator().Validate(null, built with { Upstream = "off" }).Failures!.ToList();
        Assert.Single(problems, p => p.StartsWith("max repo size", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_host_does_not_watch_the_directories_below_its_content_root()
    {
        // A server started from / or a home directory must not put an inotify watch on every directory below it (the
        // host's reloadable appsettings.json would, through a recursive watcher on the content root).
        var dir = TestPaths.NewTempDir("config");
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), """{ "Warren": { "ListTtl": "00:00:42" } }""");
        var subdirs = Enumerable.Range(0, 30).Select(i => Directory.CreateDirectory(Path.Combine(dir, "tree", $"d{i}", "sub")).FullName).ToList();
        var inodes = await InodesAsync([dir, .. subdirs]);
        await using var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = Path.Combine(dir, "store");
            o.Upstream = "off";
            o.SumDb = "off";
        }, getEnv: _ => null, contentRoot: dir);
        await app.StartAsync();
        Assert.Equal(TimeSpan.FromSeconds(42), app.Services.GetRequiredService<IOptions<WarrenOptions>>().Value.ListTtl);

        var watched = WatchedInodes();
        Assert.DoesNotContain(watched, inodes.Contains);
        await app.StopAsync();
    }

    /// <summary>The inode numbers of directories (stat(1)).</summary>
    private static async Task<HashSet<ulong>> InodesAsync(IReadOnlyList<string> paths)
    {
        var psi = new ProcessStartInfo("stat") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", "%i" }.Concat(paths))
        {
            psi.ArgumentList.Add(a);
        }

        using var stat = Process.Start(psi)!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        Assert.Equal(0, stat.ExitCode);
        var inodes = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse).ToHashSet();
        Assert.Equal(paths.Count, inodes.Count);
        return inodes;
    }

    /// <summary>The inodes every inotify instance of this process watches (/proc/self/fdinfo: "inotify wd:N ino:HEX ...").</summary>
    private static List<ulong> WatchedInodes()
    {
        var watched = new List<ulong>();
        foreach (var info in Directory.EnumerateFiles("/proc/self/fdinfo"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(info);
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            foreach (var line in lines.Where(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)))
            {
                var ino = line.Split(' ').Single(f => f.StartsWith("ino:", StringComparison.Ordinal))[4..];
                watched.Add(Convert.ToUInt64(ino, 16));
            }
        }

        return watched;
    }

    [Fact]
    public async Task The_host_serves_the_one_frozen_options_instance()
    {
        await using var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = TestPaths.NewTempDir("store");
            o.Upstream = "off";
            o.SumDb = "off";
        }, getEnv: k => k == "HTTPS_PROXY" ? "http://from-hook.example:8080" : null);
        var first = app.Services.GetRequiredService<IOptions<WarrenOptions>>().Value;
        Assert.Same(first, app.Services.GetRequiredService<IOptionsMonitor<WarrenOptions>>().CurrentValue);
        Assert.Equal("http://from-hook.example:8080", first.EnvironmentProxies.HttpsProxy);
        Assert.Equal("http://from-hook.example:8080", app.Services.GetRequiredService<Warren.Fetch.Direct.Git.GitMirrorOptions>().HttpsProxy);

        // git children get the hook's proxy and nothing else: the inherited proxy variables are removed, none is set
        // for http (the hook saw no HTTP_PROXY).
        var git = app.Services.GetRequiredService<Warren.Fetch.Direct.Git.HardenedGit>();
        Assert.Equal("http://from-hook.example:8080", git.BaseEnvironment["https_proxy"]);
        Assert.Equal("http://from-hook.example:8080", git.BaseEnvironment["HTTPS_PROXY"]);
        Assert.False(git.BaseEnvironment.ContainsKey("http_proxy"));
        Assert.False(git.BaseEnvironment.ContainsKey("HTTP_PROXY"));
        foreach (var name in new[] { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY" })
        {
            Assert.Contains(name, git.Runner.RemovedEnvironment);
        }
    }
}
