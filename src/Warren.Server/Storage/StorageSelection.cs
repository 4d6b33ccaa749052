using Warren.Storage.Postgres;
using Warren.Storage.S3;

namespace Warren.Server.Storage;

/// <summary>Which artifact store and module index the options select: the file store and SQLite under the root (the
/// embedded defaults), or S3 (--store s3://…) and PostgreSQL (--index postgres://… or WARREN_INDEX) shared by the
/// nodes of a cluster. Parsed once here for the validator and the registration alike.</summary>
public static class StorageSelection
{
    /// <summary>The S3 store's options, or null for the file store; error says why the setting is not usable.</summary>
    public static S3StoreOptions? S3(WarrenOptions options, out string? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        error = null;
        if (string.IsNullOrWhiteSpace(options.Store))
        {
            if (options.S3Endpoint is not null || options.S3Region is not null || options.S3PathStyle || options.S3Redirect)
            {
                error = "store: --s3-endpoint, --s3-region, --s3-path-style and --s3-redirect need --store s3://BUCKET/PREFIX";
            }

            return null;
        }

        if (!options.Store.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            error = $"store \"{options.Store}\": give s3://BUCKET/PREFIX (the file store is the default, under --root)";
            return null;
        }

        if (!S3StoreOptions.TryParse(options.Store, out var parsed, out var parseError))
        {
            error = "store: " + parseError;
            return null;
        }

        var s3 = parsed with
        {
            ServiceUrl = string.IsNullOrWhiteSpace(options.S3Endpoint) ? null : options.S3Endpoint,
            Region = string.IsNullOrWhiteSpace(options.S3Region) ? null : options.S3Region,
            ForcePathStyle = options.S3PathStyle,
        };
        var problems = S3StoreOptionsValidator.Problems(s3);
        error = problems.Count > 0 ? string.Join("; ", problems) : null;
        return s3;
    }

    /// <summary>The PostgreSQL index's options, or null for SQLite; error says why the setting is not usable (never
    /// with the password).</summary>
    public static PostgresIndexOptions? Postgres(WarrenOptions options, out string? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        error = null;
        if (string.IsNullOrWhiteSpace(options.Index))
        {
            return null;
        }

        PostgresIndexOptions parsed;
        try
        {
            parsed = PostgresIndexOptions.FromSetting(options.Index);
        }
        catch (FormatException ex)
        {
            error = "index: " + PostgresIndexOptions.Redact(ex.Message);
            return null;
        }

        var problems = parsed.Validate();
        error = problems.Count > 0 ? "index: " + string.Join("; ", problems) : null;
        return parsed;
    }

    /// <summary>What is wrong with the storage settings, one line per problem.</summary>
    public static IReadOnlyList<string> Problems(WarrenOptions options)
    {
        S3(options, out var store);
        Postgres(options, out var index);
        return new[] { store, index }.OfType<string>().ToList();
    }
}
