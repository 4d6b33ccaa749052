using Warren.Core.Vulns;

namespace Warren.Server.Impact;

public static class ImpactServiceCollectionExtensions
{
    /// <summary>Download records (always), the impact query and, with <see cref="WarrenOptions.AlertWebhook"/>, the alert
    /// outbox (an <see cref="IAdvisoryRefreshObserver"/>) and its sender, on a named HttpClient under the egress policy.</summary>
    public static IServiceCollection AddWarrenImpact(this IServiceCollection services, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton<DownloadTracker>();
        services.AddSingleton<DownloadRecords>();
        services.AddHostedService(sp => sp.GetRequiredService<DownloadRecords>());
        services.AddSingleton<ImpactQuery>();
        if (options.AlertWebhook is not null)
        {
            services.AddHttpClient(AlertSender.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
                .ConfigurePrimaryHttpMessageHandler(sp =>
                {
                    // The same handler as every outbound client: the egress policy on each connection and redirect hop,
                    // the outbound proxy, the connect timeout.
                    return Upstream.HttpDownloader.CreateHandler(sp.GetRequiredService<IOptions<WarrenOptions>>().Value,
                        sp.GetRequiredService<Warren.Fetch.Direct.Egress.EgressPolicy>());
                });
            services.AddSingleton<AlertClaimer>();
            services.AddSingleton<AlertSender>();
            services.AddHostedService(sp => sp.GetRequiredService<AlertSender>());
            services.AddSingleton<AlertOutbox>();
            services.AddSingleton<IAdvisoryRefreshObserver>(sp => sp.GetRequiredService<AlertOutbox>());
        }

        return services;
    }
}
