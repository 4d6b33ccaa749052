namespace Warren.Server.ConsoleData;

/// <summary>Registration of the console's data services: the query services behind the /api/ endpoints (and the
/// console's pages) and the bounded in-memory rings they read.</summary>
public static class ConsoleServices
{
    /// <summary>Registers <see cref="ConsoleAccessRules"/>, <see cref="AuditTrail"/>, <see cref="PolicyDenials"/>, <see cref="ConsoleAdvisoryQuery"/>,
    /// <see cref="ConsolePolicyView"/>, <see cref="ConsoleSyncView"/>, <see cref="ConsoleTokenAdmin"/> and
    /// <see cref="ConsoleConfigView"/> as singletons, and the OpenAPI document of the /api/ endpoints.</summary>
    public static IServiceCollection AddWarrenConsoleData(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleAccessRules>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<PolicyDenials>();
        services.AddSingleton<ConsoleAdvisoryQuery>();
        services.AddSingleton<ConsolePolicyView>();
        services.AddSingleton<ConsoleSyncView>();
        services.AddSingleton<ConsoleTokenAdmin>();
        services.AddSingleton<ConsoleConfigView>();
        services.AddOpenApi(Endpoints.ConsoleApiEndpoints.DocumentName, o =>
        {
            // Only the console's JSON API: the GOPROXY routes (and the catch-all), /metrics, /admin/, /sumdb/ are not described.
            o.ShouldInclude = d => d.RelativePath is { } path && path.StartsWith(Endpoints.ConsoleApiEndpoints.Prefix[1..], StringComparison.Ordinal);
        });
        return services;
    }
}
