namespace Warren.Tools.Doctor;

/// <summary>What `warren doctor` examines and how patiently.</summary>
public sealed class DoctorOptions
{
    /// <summary>The directory whose go.mod (and go.sum, vendor) is checked; without a go.mod the module checks are skipped.</summary>
    public string ModuleDir { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>The limit of each network request and git command.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many requirements are resolved at once.</summary>
    public int Parallelism { get; init; } = 8;

    /// <summary>The user's environment (HOME, NETRC, HTTPS_PROXY, SSH_AUTH_SOCK, git's variables…); git runs with it.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>The git executable.</summary>
    public string Git { get; init; } = "git";

    /// <summary>Lock files older than this are reported as left over.</summary>
    public TimeSpan StaleLockAge { get; init; } = TimeSpan.FromMinutes(10);
}
