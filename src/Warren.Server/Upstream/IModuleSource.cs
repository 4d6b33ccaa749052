namespace Warren.Server.Upstream;

/// <summary>Somewhere modules come from: an upstream proxy, or (for `direct`) the origin repositories.</summary>
public interface IModuleSource
{
    /// <summary>Names the source in messages and metrics (a URL without credentials, or "direct").</summary>
    string Name { get; }

    /// <summary>Writes the answer to <paramref name="destinationPath"/> (created or truncated) and says how it went.</summary>
    Task<FetchOutcome> FetchAsync(ModuleRequest request, string destinationPath, CancellationToken cancellationToken);
}
