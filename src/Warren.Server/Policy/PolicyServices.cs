using Microsoft.Extensions.Configuration;

namespace Warren.Server.Policy;

/// <summary>Registration of the policy at the proxy.</summary>
public static class PolicyServices
{
    /// <summary>The configuration path of an inline policy object.</summary>
    public const string Section = "Warren:Policy";

    public static IServiceCollection AddWarrenPolicy(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<WarrenOptions>, PolicyOptionsValidator>();
        services.AddSingleton<PolicyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<PolicyStore>());
        services.AddSingleton<PolicyMetrics>();
        services.AddSingleton<PolicyGate>();
        return services;
    }

    /// <summary>When no policy file is given and the "Warren:Policy" section is an object, the policy is that object of
    /// appsettings.json (read from the file itself, so that problems name its lines, and reloaded when it changes).</summary>
    public static void UseAppSettingsSection(WarrenOptionsBuilder draft, IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(configuration);
        if (!string.IsNullOrEmpty(draft.PolicyFile))
        {
            return;
        }

        var section = configuration.GetSection(Section);
        if (!section.GetChildren().Any())
        {
            draft.PolicyFile = string.IsNullOrEmpty(section.Value) ? null : section.Value; // "Policy": "FILE" or WARREN_POLICY=FILE
            return;
        }

        draft.PolicyFile = Path.Combine(contentRoot, "appsettings.json");
        draft.PolicySection = Section;
    }
}
