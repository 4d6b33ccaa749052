using Microsoft.Extensions.Options;

namespace Warren.Storage.FileSystem;

/// <summary>The settings of a <see cref="FileSystemArtifactStore"/>.</summary>
public sealed record FileSystemStoreOptions
{
    /// <summary>The store's directory (absolute); created 0700 when missing.</summary>
    public required string Root { get; init; }

    /// <summary>fsync every published file and the directories it was renamed into, so that a commit survives a power loss.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Keep each module's @v/list equal to the release versions held, so the store can be served with GOPROXY=file://.</summary>
    public bool MaintainListFiles { get; init; } = true;
}

/// <summary>Refuses bad <see cref="FileSystemStoreOptions"/> at start-up with one line per problem.</summary>
public sealed class FileSystemStoreOptionsValidator : IValidateOptions<FileSystemStoreOptions>
{
    /// <summary>The problems of options, one line each; empty when there are none.</summary>
    public static IReadOnlyList<string> Problems(FileSystemStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RootProblem(options.Root) is { } problem ? [problem] : [];
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public static void ThrowIfInvalid(FileSystemStoreOptions options) => OptionsProblems.ThrowIfAny<FileSystemStoreOptions>(Problems(options));

    public ValidateOptionsResult Validate(string? name, FileSystemStoreOptions options) => OptionsProblems.ToResult(Problems(options));

    private static string? RootProblem(string? root) => root switch
    {
        _ when string.IsNullOrWhiteSpace(root) => "store root: required",
        _ when !Path.IsPathFullyQualified(root) => $"store root \"{root}\": must be an absolute path",
        _ when root.Contains('\0', StringComparison.Ordinal) => "store root: holds a NUL character",
        _ => null,
    };
}
