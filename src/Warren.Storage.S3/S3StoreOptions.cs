using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace Warren.Storage.S3;

/// <summary>Whether put-if-absent relies on the server's conditional writes (If-None-Match: *).</summary>
public enum ConditionalWrites
{
    /// <summary>Probe the server once, at first use: conditional writes when it refuses a second conditional put of
    /// one key, else the key lock.</summary>
    Auto,

    /// <summary>Always conditional writes (AWS S3 since 2024, and compatible servers that implement them).</summary>
    On,

    /// <summary>Never: put-if-absent is HEAD then PUT under the <see cref="IKeyLock"/>.</summary>
    Off,
}

/// <summary>The settings of an <see cref="S3ArtifactStore"/>. Credentials are never here: they come from the AWS
/// SDK's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, profiles, instance roles).</summary>
public sealed record S3StoreOptions
{
    /// <summary>The smallest part S3 accepts (but for the last).</summary>
    public const long MinPartSize = 5L * 1024 * 1024;

    /// <summary>The largest part size allowed here (S3 takes up to 5 GiB, but a part is held in memory while it goes up).</summary>
    public const long MaxPartSize = 1L * 1024 * 1024 * 1024;

    private readonly string _prefix = "";

    /// <summary>The bucket.</summary>
    public required string Bucket { get; init; }

    /// <summary>Where in the bucket the store's keys begin: empty, or ending in '/' (one is appended when missing).</summary>
    public string Prefix
    {
        get => _prefix;
        init => _prefix = string.IsNullOrEmpty(value) ? "" : value.EndsWith('/') ? value : value + "/";
    }

    /// <summary>The endpoint of an S3-compatible server (http or https); null for AWS S3.</summary>
    public string? ServiceUrl { get; init; }

    /// <summary>The region (for AWS S3, or the signing region of a custom endpoint); null for the SDK's default.</summary>
    public string? Region { get; init; }

    /// <summary>Path-style addressing (http://host/bucket/key), as most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; init; }

    public ConditionalWrites ConditionalWrites { get; init; } = ConditionalWrites.Auto;

    /// <summary>Objects of at least this many bytes go up as multipart uploads.</summary>
    public long MultipartThreshold { get; init; } = 16L * 1024 * 1024;

    /// <summary>The size of a multipart upload's parts (5 MiB to 1 GiB); one part at a time is held in memory. At most
    /// 10,000 parts make an object, so the default allows objects up to 78 GiB.</summary>
    public long PartSize { get; init; } = 8L * 1024 * 1024;

    /// <summary>The longest lifetime a presigned redirect URL is given; a longer one asked for is shortened to this.</summary>
    public TimeSpan RedirectLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Parses "s3://BUCKET" or "s3://BUCKET/PREFIX" into options with that bucket and prefix (the rest default).</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static S3StoreOptions Parse(string text) =>
        TryParse(text, out var options, out var error) ? options : throw new FormatException(error);

    /// <summary>Parses "s3://BUCKET[/PREFIX]"; false with a one-line error otherwise.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out S3StoreOptions? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        const string scheme = "s3://";
        if (text is null || !text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = $"\"{text}\" is not an S3 location: expected s3://BUCKET[/PREFIX]";
            return false;
        }

        var rest = text[scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length == 0)
        {
            error = $"\"{text}\": no bucket: expected s3://BUCKET[/PREFIX]";
            return false;
        }

        if (bucket.Contains('@', StringComparison.Ordinal) || bucket.Contains(':', StringComparison.Ordinal))
        {
            error = $"\"{text}\": the bucket may not hold ':' or '@' (credentials come from the AWS SDK's standard chain, never from the location)";
            return false;
        }

        options = new S3StoreOptions { Bucket = bucket, Prefix = prefix };
        var problems = S3StoreOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            options = null;
            error = $"\"{text}\": {problems[0]}";
            return false;
        }

        error = null;
        return true;
    }
}

/// <summary>Refuses bad <see cref="S3StoreOptions"/> at start-up with one line per problem.</summary>
public sealed class S3StoreOptionsValidator : IValidateOptions<S3StoreOptions>
{
    /// <summary>The problems of options, one line each; empty when there are none.</summary>
    public static IReadOnlyList<string> Problems(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (string.IsNullOrEmpty(options.Bucket))
        {
            problems.Add("s3 bucket: required");
        }
        else if (!IsBucketName(options.Bucket))
        {
            problems.Add($"s3 bucket \"{options.Bucket}\": not a bucket name (3 to 63 of a-z 0-9 . -, beginning and ending with a letter or digit)");
        }

        var prefix = options.Prefix;
        if (prefix.Length > 0 && (prefix.StartsWith('/') || prefix.Contains('\\', StringComparison.Ordinal) || prefix.Any(char.IsControl) ||
            prefix[..^1].Split('/').Any(s => s is "" or "." or "..")))
        {
            problems.Add($"s3 prefix \"{prefix}\": must be '/'-separated names, with no empty, '.' or '..' segment, '\\' or control character");
        }

        if (options.ServiceUrl is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                problems.Add("s3 endpoint: must be an absolute http or https URL");
            }
            else if (uri.UserInfo.Length > 0)
            {
                problems.Add("s3 endpoint: may not hold credentials (they come from the AWS SDK's standard chain)");
            }
            else if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            {
                problems.Add($"s3 endpoint \"{url}\": may not have a query or fragment");
            }
        }

        if (options.Region is { } region && (region.Length == 0 || !region.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            problems.Add($"s3 region \"{region}\": not a region name");
        }

        if (!Enum.IsDefined(options.ConditionalWrites))
        {
            problems.Add($"s3 conditional writes: {options.ConditionalWrites} is none of Auto, On, Off");
        }

        if (options.PartSize is < S3StoreOptions.MinPartSize or > S3StoreOptions.MaxPartSize)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"s3 part size {options.PartSize}: must be from 5 MiB ({S3StoreOptions.MinPartSize}) to 1 GiB ({S3StoreOptions.MaxPartSize}; a part is held in memory)"));
        }

        if (options.MultipartThreshold <= 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"s3 multipart threshold {options.MultipartThreshold}: must be positive"));
        }

        if (options.RedirectLifetime <= TimeSpan.Zero || options.RedirectLifetime > TimeSpan.FromDays(7))
        {
            problems.Add($"s3 redirect lifetime {options.RedirectLifetime}: must be more than zero and at most 7 days");
        }

        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public static void ThrowIfInvalid(S3StoreOptions options) => OptionsProblems.ThrowIfAny<S3StoreOptions>(Problems(options));

    public ValidateOptionsResult Validate(string? name, S3StoreOptions options) => OptionsProblems.ToResult(Problems(options));

    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-') &&
        char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]) && !name.Contains("..", StringComparison.Ordinal);
}
