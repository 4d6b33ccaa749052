using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Configuration;
using Warren.Server.Observability;

namespace Warren.Server.Tests.Infrastructure;

/// <summary>A Warren server running in this process on 127.0.0.1 with an ephemeral port and a temporary store.</summary>
public sealed class WarrenInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WarrenInstance(WebApplication app, string root)
    {
        _app = app;
        Root = root;
        Url = WarrenHost.Addresses(app).First(a => a.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/');
        Client = new HttpClient { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromMinutes(5) };
    }

    public string Url { get; }

    public string Root { get; }

    public HttpClient Client { get; }

    public string InstanceId => _app.Services.GetRequiredService<Upstream.InstanceIdentity>().Id;

    public WarrenMetrics Metrics => _app.Services.GetRequiredService<WarrenMetrics>();

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <param name="beforeStart">Runs on the built application before it starts (to add a logger provider or middleware).</param>
    /// <param name="services">Runs after Warren's services are registered (e.g. to replace the TimeProvider).</param>
    public static async Task<WarrenInstance> StartAsync(string upstream, Action<WarrenOptionsBuilder>? configure = null, string? root = null, Action<WebApplication>? beforeStart = null,
        Action<IServiceCollection>? services = null)
    {
        root ??= TestPaths.NewTempDir("store");
        var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = root;
            o.Upstream = upstream;
            o.SumDb = "off";
            o.Private = "";
            o.NoProxy = "";
            o.NoSumDb = "";
            o.Fsync = false;
            o.VulnDb = "off";
            configure?.Invoke(o);
        }, getEnv: _ => null, services: services);
        beforeStart?.Invoke(app);
        await app.StartAsync();
        return new WarrenInstance(app, root);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
