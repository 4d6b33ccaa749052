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
    /// appsettings.json (read from the file itself, so that problems name its lines, and reloaded when it changes); when
    /// appsettings.json has no such object, the section comes from elsewhere (environment variables such as
    /// WARREN_POLICY__DENY__0__MODULE) and is the policy as configured at start-up.</summary>
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

        var appSettings = Path.Combine(contentRoot, "appsettings.json");
        if (!HoldsSection(appSettings))
        {
            draft.PolicyInline = PolicyConfiguration.ToJson(section);
            return;
        }

        draft.PolicyFile = appSettings;
        draft.PolicySection = Section;
    }

    /// <summary>Whether the file exists and has an object at <see cref="Section"/> (an unreadable or malformed file counts
    /// as holding it, so that its problems are reported against it).</summary>
    private static bool HoldsSection(string appSettings)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(appSettings))
            {
                return false;
            }

            bytes = File.ReadAllBytes(appSettings);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }

        return Warren.Core.Policy.PolicyJson.Parse(bytes, out _) is not { } root || Warren.Core.Policy.PolicyJson.Find(root, Section) is not null;
    }
}
