using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Warren.Server.Auth;
using Warren.Server.Endpoints;
using Warren.WebConsole.Components;
using Warren.WebConsole.Data;
using Warren.WebConsole.Sessions;

namespace Warren.WebConsole;

/// <summary>Mounts the web console at /ui/ on Warren's listener: Razor components rendered on the server (static SSR,
/// no script needed), its sessions, anti-forgery and assets. The proxy's hot path is untouched: the console's
/// middleware runs only for /ui/ and /api/ requests.</summary>
public static class ConsoleServiceCollectionExtensions
{
    /// <summary>Registers the console's services. Call after AddWarren (e.g. through WarrenHost.Build's services hook).</summary>
    public static IServiceCollection AddWarrenConsole(this IServiceCollection services, Action<ConsoleOptionsBuilder>? configure = null)
    {
        var draft = new ConsoleOptionsBuilder();
        configure?.Invoke(draft);
        var options = draft.Build();
        services.AddSingleton(options);
        services.AddSingleton<ConsoleSessions>();
        services.AddSingleton<IConsoleSessions>(sp => sp.GetRequiredService<ConsoleSessions>());
        services.AddSingleton<StaticAssets>();
        services.AddSingleton<OverviewData>();
        services.AddSingleton<ModuleData>();
        services.AddRazorComponents();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "warren_antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/";
            o.FormFieldName = "__warren_antiforgery";
        });

        // Sessions live in the module index, so does the key that protects anti-forgery tokens: every node sharing the
        // index accepts the forms of every other, and nothing is written to the home directory.
        services.AddSingleton<SharedDataProtection>();
        services.AddHostedService(sp => sp.GetRequiredService<SharedDataProtection>());
        services.Replace(ServiceDescriptor.Singleton<IDataProtectionProvider>(sp => sp.GetRequiredService<SharedDataProtection>()));

        // AddAntiforgery brings the framework's data protection with it, and that starts a hosted service which loads
        // (and creates) an XML key ring under the user's home directory at start-up: never used here (the provider above
        // replaces it), and it cost a directory in HOME plus the XML and key-ring machinery in memory.
        foreach (var keyRing in services.Where(d => d.ServiceType == typeof(IHostedService) &&
            d.ImplementationType?.Namespace?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) == true).ToList())
        {
            services.Remove(keyRing);
        }
        return services;
    }

    /// <summary>Adds the console's middleware (for /ui/ and /api/ only) and endpoints. Call on the built application,
    /// after Warren's own middleware (WarrenHost.Build), so the access control has resolved the viewer.</summary>
    public static WebApplication MapWarrenConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The anti-forgery middleware only for console paths: proxy requests never pass through it. Marking it set
        // keeps WebApplication from adding it for every request.
        app.UseWhen(context => ConsoleAccess.IsConsolePath(context.Request.Path.Value ?? "/"), branch =>
        {
            branch.Use(static async (context, next) =>
            {
                context.Items[ProxyEndpoints.RouteItem] = ConsoleAccess.Artifact;
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; " +
                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                await next(context);
            });
            branch.UseAntiforgery();

            // A form posted without its anti-forgery token (or with a stale one) is refused here with its reason.
            branch.Use(static async (context, next) =>
            {
                if (context.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    context.Response.Headers.CacheControl = "no-store";
                    await context.Response.WriteAsync("bad request: the form's anti-forgery token is missing or invalid; reload the page and submit it again\n", context.RequestAborted);
                    return;
                }

                await next(context);
            });
        });
        ((IApplicationBuilder)app).Properties["__AntiforgeryMiddlewareSet"] = true;

        app.MapGet(StaticAssets.Prefix + "{name}", (HttpContext context, string name, StaticAssets assets) => assets.Serve(context, name));
        app.MapRazorComponents<App>();
        app.MapConsoleApi();

        // Anything else under /ui/ is the console's "not found", never a module path for the proxy.
        app.MapMethods("/ui/{**rest}", ["GET", "HEAD", "POST"], (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text("not found: no console page at " + Printable(context.Request.Path.Value) + "\n", "text/plain; charset=utf-8", statusCode: 404);
        });
        return app;
    }

    internal static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "/";
        }

        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length > 120 ? clean[..120] + "…" : clean;
    }
}
