using System.Collections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Warren.Server.Auth;
using Warren.Server.Endpoints;
using Warren.Server.Impact;

namespace Warren.Server;

/// <summary>Builds the `warren serve` web application: configuration layering, Kestrel, endpoints.</summary>
public static class WarrenHost
{
    /// <summary>Precedence: flags (overrides) over WARREN_* variables over appsettings.json ("Warren" section) over GO* variables over go defaults.</summary>
    /// <param name="contentRoot">Where appsettings.json is read from; the current directory by default.</param>
    /// <param name="services">Runs after Warren's services are registered (tests replace e.g. the TimeProvider).</param>
    public static WebApplication Build(Action<WarrenOptionsBuilder>? overrides = null, string[]? args = null, Func<string, string?>? getEnv = null, string? contentRoot = null,
        Action<IServiceCollection>? services = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        // The configuration is read once and frozen (below), so the host does not watch it: with reloading on, the
        // optional appsettings.json is watched through a recursive watcher on the content root (the working
        // directory), one inotify watch for every directory below it, which from / or a home directory takes seconds
        // and can exhaust the user's inotify watches. (A policy in appsettings.json has a watcher of its own.)
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = contentRoot,
        });
        builder.Configuration.AddInMemoryCollection(WarrenVariables());
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // The options are gathered once, then frozen: nothing changes them while the server runs.
        var draft = new WarrenOptionsBuilder();
        builder.Configuration.GetSection("Warren").Bind(draft);
        overrides?.Invoke(draft);
        GoEnvironment.ApplyDefaults(draft, getEnv);
        Policy.PolicyServices.UseAppSettingsSection(draft, builder.Configuration, builder.Environment.ContentRootPath);
        var effective = draft.Build();

        builder.Services.AddWarren(effective);
        builder.Services.AddWarrenTracing(effective.Tracing);
        services?.Invoke(builder.Services);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            if (ListenAddress.TryParse(effective.Listen, out var listen, out _))
            {
                if (listen!.Address is { } ip)
                {
                    k.Listen(ip, listen.Port);
                }
                else
                {
                    k.ListenLocalhost(listen.Port);
                }
            }

            if (!string.IsNullOrEmpty(effective.AdminListen))
            {
                AccessControl.ListenAdmin(k, effective.AdminListen);
            }
        });

        var app = builder.Build();
        app.UseWarrenObservability();
        app.UseDownloadRecording();
        app.UseWarrenAccessControl();
        app.UseOriginAuthorization();
        app.MapWarren();
        app.MapImpact();
        app.MapWarrenConsoleApi();
        app.MapVulnDb();
        return app;
    }

    /// <summary>The base URLs the started server listens on.</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static IEnumerable<KeyValuePair<string, string?>> WarrenVariables()
    {
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (key.StartsWith("WARREN_", StringComparison.OrdinalIgnoreCase) && key.Length > 7)
            {
                // WARREN_NO_PROXY and WARREN_NOPROXY both name NoProxy; "__" separates sections.
                var name = key[7..].Replace("__", ":", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
                yield return new("Warren:" + name, (string?)entry.Value);
            }
        }
    }
}
