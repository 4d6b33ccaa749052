using Microsoft.Extensions.DependencyInjection;

namespace Warren.Tools;

/// <summary>The HTTP clients of the command-line tools, from one <see cref="IHttpClientFactory"/> with named clients:
/// "warren-prefetch" (GOPROXY requests, 10 minutes each), "warren-verify" (checksum database lookups, 30 s each), "warren-audit" (GOPROXY and vulnerability database lookups, 2 minutes each) and
/// "warren-doctor" (probes through the outbound proxy of the user's environment; each probe has its own timeout).</summary>
public static class ToolHttp
{
    public const string Prefetch = "warren-prefetch";
    public const string Verify = "warren-verify";
    public const string Doctor = "warren-doctor";
    public const string Audit = "warren-audit";

    private static readonly Lazy<ServiceProvider> SharedProvider = new(() => Build(null));

    /// <summary>The factory of this process (the doctor client honours the process's proxy variables).</summary>
    public static IHttpClientFactory Shared => SharedProvider.Value.GetRequiredService<IHttpClientFactory>();

    /// <summary>A provider of the named clients; doctorHandler makes the primary handler of the doctor client (null: one
    /// honouring HTTPS_PROXY/HTTP_PROXY/NO_PROXY of this process). Dispose it to release the handlers.</summary>
    public static ServiceProvider Build(Func<HttpMessageHandler>? doctorHandler)
    {
        var services = new ServiceCollection();
        services.AddHttpClient(Prefetch, c =>
        {
            c.Timeout = TimeSpan.FromMinutes(10);
            c.DefaultRequestHeaders.UserAgent.ParseAdd("warren-prefetch");
        });
        services.AddHttpClient(Verify, c => c.Timeout = TimeSpan.FromSeconds(30));
        services.AddHttpClient(Audit, c =>
        {
            c.Timeout = TimeSpan.FromMinutes(2);
            c.DefaultRequestHeaders.UserAgent.ParseAdd("warren-audit");
        });
        services.AddHttpClient(Doctor, c =>
        {
            c.Timeout = Timeout.InfiniteTimeSpan;
            c.DefaultRequestHeaders.UserAgent.ParseAdd("warren-doctor");
        }).ConfigurePrimaryHttpMessageHandler(doctorHandler ?? (() => Warren.Tools.Doctor.EnvironmentWebProxy.CreateHandler(ProcessEnvironment())));
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment[(string)e.Key] = e.Value as string;
        }

        return environment;
    }
}
