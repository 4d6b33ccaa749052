using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;
using Warren.Server.Auth;
using Warren.Server.Endpoints;

namespace Warren.Server.Vulns;

/// <summary>Registers the vulnerability database mirror and serves it under /vuln/.</summary>
public static class VulnDbServices
{
    /// <summary>The mirror (unless --vulndb off) as the <see cref="IAdvisoryCatalog"/>, replacing the empty one; it starts
    /// at start-up only when some component registered an <see cref="IAdvisoryRefreshObserver"/>, else on first use.</summary>
    public static IServiceCollection AddVulnDbMirror(this IServiceCollection services, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton<VulnDbMetrics>();
        if (VulnDbSource.IsOff(options.VulnDb))
        {
            return services;
        }

        services.AddSingleton(sp => VulnDbSource.Create(sp.GetRequiredService<IOptions<WarrenOptions>>().Value, sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<TimeProvider>())!);
        services.AddSingleton(sp => new VulnDbMirror(sp.GetRequiredService<VulnDbSource>(), sp.GetRequiredService<IOptions<WarrenOptions>>(), sp,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<VulnDbMirror>>(),
            metrics: sp.GetRequiredService<VulnDbMetrics>()));
        services.Replace(ServiceDescriptor.Singleton<IAdvisoryCatalog>(sp => sp.GetRequiredService<VulnDbMirror>()));
        services.AddHostedService<VulnDbStarter>();
        return services;
    }
}

/// <summary>Starts the mirror at start-up when some component reacts to new advisories (it needs the refreshes even
/// when nobody asks for /vuln/), or when the policy denies vulnerable versions (the first downloads need the database).</summary>
internal sealed class VulnDbStarter(IServiceProvider services, VulnDbMirror mirror) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetServices<IAdvisoryRefreshObserver>().Any() || services.GetService<Policy.PolicyStore>()?.Current.DenyVulnerable == true)
        {
            mirror.EnsureStarted();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
