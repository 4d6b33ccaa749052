using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Warren.Testing;

/// <summary>A minimal Kestrel app on 127.0.0.1 answering every request with one handler, without logging: the base of
/// the fake servers.</summary>
public static class LoopbackApp
{
    /// <summary>Starts the app on the port (0: an ephemeral one); returns it and its URL (no trailing slash).</summary>
    public static async Task<(WebApplication App, string Url)> StartAsync(RequestDelegate handler, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, address.TrimEnd('/'));
    }

    public static async ValueTask StopAsync(WebApplication app)
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
