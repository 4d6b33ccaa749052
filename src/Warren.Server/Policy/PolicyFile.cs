using Warren.Core.Policy;

namespace Warren.Server.Policy;

/// <summary>Reads the configured policy: the whole file, or the object at <see cref="WarrenOptions.PolicySection"/> of it.</summary>
public static class PolicyFile
{
    /// <summary>The policy as the options name it: "FILE" or "FILE (Warren.Policy)".</summary>
    public static string Describe(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PolicyFile is null && options.PolicyInline is not null)
        {
            return "Warren:Policy (configuration)";
        }

        return options.PolicySection is null ? options.PolicyFile ?? "(none)" : $"{options.PolicyFile} ({options.PolicySection.Replace(':', '.')})";
    }

    /// <summary>Reads and compiles the file's bytes; problems are "FILE line N: problem", one per problem.</summary>
    public static ModulePolicy? Compile(WarrenOptions options, ReadOnlySpan<byte> content, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        var policy = PolicyParser.Parse(content, options.PolicySection, out var found);
        var name = options.PolicyFile ?? Describe(options);
        problems = found.Select(p => $"policy {name} {p}").ToList();
        return policy;
    }

    /// <summary>Reads the file (bounded); null with the reason when it cannot be read.</summary>
    public static byte[]? Read(WarrenOptions options, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(options);
        reason = null;
        if (string.IsNullOrEmpty(options.PolicyFile) && options.PolicyInline is { } inline)
        {
            return System.Text.Encoding.UTF8.GetBytes(inline);
        }

        try
        {
            using var stream = new FileStream(Path.GetFullPath(options.PolicyFile!), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > PolicyJson.MaxBytes)
            {
                reason = $"larger than {PolicyJson.MaxBytes} bytes";
                return null;
            }

            var buffer = new MemoryStream((int)stream.Length);
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = ex is FileNotFoundException or DirectoryNotFoundException ? "no such file" : ex.Message.Replace('\n', ' ');
            return null;
        }
    }
}

/// <summary>Refuses start-up with one line per problem of the policy (malformed JSON, bad glob, bad range, unknown key,
/// missing reason …), each naming the file and line.</summary>
public sealed class PolicyOptionsValidator : IValidateOptions<WarrenOptions>
{
    public ValidateOptionsResult Validate(string? name, WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.PolicyFile) && options.PolicyInline is null)
        {
            return ValidateOptionsResult.Success;
        }

        var problems = new List<string>();
        if (options.PolicyPollInterval <= TimeSpan.Zero)
        {
            problems.Add($"policy poll interval {options.PolicyPollInterval}: must be positive");
        }

        if (PolicyFile.Read(options, out var reason) is not { } content)
        {
            problems.Add($"policy {PolicyFile.Describe(options)}: cannot read it: {reason}");
        }
        else if (PolicyFile.Compile(options, content, out var found) is null)
        {
            problems.AddRange(found);
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
