using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Warren.Storage.Postgres;

/// <summary>Where the shared PostgreSQL index is: an Npgsql connection string, the schema holding Warren's tables
/// (several clusters may share one database under different schemas) and the timeout of each command.</summary>
public sealed partial record PostgresIndexOptions
{
    /// <summary>The default schema.</summary>
    public const string DefaultSchema = "warren";

    /// <summary>An Npgsql connection string (see <see cref="FromSetting"/> for URLs).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The schema of Warren's tables: lowercase letters, digits and '_', created by the migrations.</summary>
    public string Schema { get; init; } = DefaultSchema;

    /// <summary>How long one command may run (waiting for a key lock is not bounded by it).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Options from a setting that is either a <c>postgres://user:password@host:port/db?sslmode=…</c> URL
    /// (also <c>postgresql://</c>) or an Npgsql connection string (taken as it is; <see cref="Validate"/> checks it).</summary>
    /// <exception cref="FormatException">A URL that cannot be read; the message never holds the password.</exception>
    public static PostgresIndexOptions FromSetting(string setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var text = setting.Trim();
        return text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            ? new PostgresIndexOptions { ConnectionString = FromUrl(text) }
            : new PostgresIndexOptions { ConnectionString = text };
    }

    /// <summary>What is wrong with these options, one line per problem (never with the password); empty when nothing is.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            problems.Add("postgres: a connection string is required");
        }
        else if (!TryParse(ConnectionString, out var builder, out var error))
        {
            problems.Add("postgres connection string: " + error);
        }
        else
        {
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                problems.Add("postgres connection string: no Host");
            }

            if (string.IsNullOrWhiteSpace(builder.Database))
            {
                problems.Add("postgres connection string: no Database");
            }
        }

        if (Schema is null || !SchemaName().IsMatch(Schema))
        {
            problems.Add($"postgres schema \"{Schema}\": use 1 to 63 lowercase letters, digits or '_', starting with a letter or '_'");
        }

        if (CommandTimeout <= TimeSpan.Zero || CommandTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"postgres command timeout {CommandTimeout}: must be more than zero and at most an hour");
        }

        return problems;
    }

    /// <summary>host:port/database, for logs (never with credentials); "(invalid)" when the connection string is not valid.</summary>
    public string Location => TryParse(ConnectionString, out var b, out _) ? $"{b.Host}:{b.Port}/{b.Database}" : "(invalid)";

    /// <summary>The options without the connection string's credentials (records print every property otherwise).</summary>
    public override string ToString() => $"PostgresIndexOptions {{ Location = {Location}, Schema = {Schema}, CommandTimeout = {CommandTimeout} }}";

    /// <summary>Removes passwords from text that may hold a URL or a connection string (for messages).</summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = UrlPassword().Replace(text, "$1***@");
        return KeywordPassword().Replace(text, "$1=***");
    }

    /// <summary>The connection string Npgsql gets: the configured one with the command timeout applied.</summary>
    internal string BuildConnectionString()
    {
        if (!TryParse(ConnectionString, out var builder, out var error))
        {
            throw new InvalidOperationException("postgres connection string: " + error);
        }

        builder.CommandTimeout = (int)Math.Ceiling(CommandTimeout.TotalSeconds);
        return builder.ConnectionString;
    }

    private static bool TryParse(string? connectionString, out NpgsqlConnectionStringBuilder builder, out string error)
    {
        builder = new NpgsqlConnectionStringBuilder();
        error = "";
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            error = "empty";
            return false;
        }

        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            var password = PasswordOf(connectionString);
            var message = Redact(e.Message);
            error = password.Length > 0 ? message.Replace(password, "***", StringComparison.Ordinal) : message;
            return false;
        }
    }

    /// <summary>The password a connection string's text holds (best effort, for redaction only).</summary>
    private static string PasswordOf(string connectionString)
    {
        var match = KeywordPasswordValue().Match(connectionString);
        return match.Success ? match.Groups["value"].Value.Trim().Trim('"', '\'') : "";
    }

    private static string FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"postgres URL \"{Redact(url)}\": not a URL with a host");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (name)
            {
                case "sslmode":
                    builder.SslMode = value switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"postgres URL \"{Redact(url)}\": sslmode \"{value}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                    };
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "connect_timeout" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds):
                    builder.Timeout = seconds;
                    break;
                default:
                    throw new FormatException($"postgres URL \"{Redact(url)}\": unsupported parameter \"{name}\" (sslmode, application_name and connect_timeout are)");
            }
        }

        return builder.ConnectionString;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();

    [GeneratedRegex("(://[^:/@]*:)[^@/]*@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex("""(?i)\b(password|pwd)\s*=\s*("[^"]*"|'[^']*'|[^;]*)""")]
    private static partial Regex KeywordPassword();

    [GeneratedRegex("""(?i)\b(password|pwd)\s*=\s*(?<value>"[^"]*"|'[^']*'|[^;]*)""")]
    private static partial Regex KeywordPasswordValue();
}
