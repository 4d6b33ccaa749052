using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Warren.Core.Modules;
using Warren.Server.Auth;

namespace Warren.Cli.Commands;

/// <summary>`warren token`: manage the principals of an auth file.</summary>
public sealed class TokenCommand : Command
{
    /// <param name="time">The clock expiry is measured with; the system clock by default.</param>
    public TokenCommand(TimeProvider? time = null)
        : base("token", """
            Manage the tokens of an auth file (warren serve --auth-file FILE).

            The file is rewritten atomically (mode 600) and warren serve picks changes up without a restart.
            --auth-file defaults to $WARREN_AUTHFILE, then Warren:AuthFile in ./appsettings.json.
            """)
    {
        time ??= TimeProvider.System;
        Add(new TokenCreateCommand(time));
        Add(new TokenListCommand(time));
        Add(new TokenRevokeCommand());
    }

    /// <summary>--auth-file, with its defaults.</summary>
    internal static Option<string?> AuthFileOption() =>
        new("--auth-file") { Description = "the auth file (default: $WARREN_AUTHFILE, then Warren:AuthFile in ./appsettings.json)" };

    /// <summary>The flag, else WARREN_AUTHFILE (or WARREN_AUTH_FILE), else Warren:AuthFile in ./appsettings.json; null with a message when none.</summary>
    internal static string? ResolveAuthFile(string? flag)
    {
        if (!string.IsNullOrEmpty(flag))
        {
            return flag;
        }

        foreach (var variable in new[] { "WARREN_AUTHFILE", "WARREN_AUTH_FILE" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                return value;
            }
        }

        try
        {
            var config = new ConfigurationBuilder().SetBasePath(Directory.GetCurrentDirectory()).AddJsonFile("appsettings.json", optional: true).Build();
            if (config["Warren:AuthFile"] is { Length: > 0 } configured)
            {
                return configured;
            }
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException)
        {
            Console.Error.WriteLine("warren token: appsettings.json: " + e.Message);
        }

        Console.Error.WriteLine("warren token: no auth file: give --auth-file FILE (or set WARREN_AUTHFILE)");
        return null;
    }

    internal static int Fail(string verb, string message, int code)
    {
        Console.Error.WriteLine($"warren token {verb}: {message}");
        return code;
    }
}

/// <summary>`warren token create NAME --grant PATTERNS [--admin] [--expires 90d]`.</summary>
public sealed class TokenCreateCommand : Command
{
    private readonly Argument<string> _name = new("NAME") { Description = "the principal's name (a person, team or CI job), shown in logs" };
    private readonly Option<string?> _grant = new("--grant") { Description = "GOPRIVATE-style patterns of the module paths it may read, comma-separated" };
    private readonly Option<bool> _admin = new("--admin") { Description = "may read /metrics" };
    private readonly Option<string?> _expires = new("--expires") { Description = "lifetime (90d, 12h, 2w, 1y) or a date (2027-06-30); default: never" };
    private readonly Option<string?> _authFile = TokenCommand.AuthFileOption();
    private readonly Option<bool> _json = new("--json") { Description = "print {\"name\":…,\"token\":…}" };

    private readonly TimeProvider _time;

    public TokenCreateCommand(TimeProvider time)
        : base("create", """
            Create a principal and print its token, once, alone on the last line of output.

            Only a slow hash (Argon2id) of the token is stored; a lost token cannot be recovered, revoke it and create another.

            Examples:
              warren token create alice --grant 'git.corp.example/*' --expires 90d --auth-file /etc/warren/auth.json
              warren token create ci --grant 'git.corp.example/platform' --json --auth-file /etc/warren/auth.json
              warren token create ops --admin --auth-file /etc/warren/auth.json
            """)
    {
        Add(_name);
        Add(_grant);
        Add(_admin);
        Add(_expires);
        Add(_authFile);
        Add(_json);
        SetAction(Run);
        _time = time;
    }

    private int Run(ParseResult parse)
    {
        var name = parse.GetValue(_name)!;
        if (AuthFile.CheckName(name) is { } nameProblem)
        {
            return TokenCommand.Fail("create", nameProblem, ExitCodes.Usage);
        }

        var grants = (parse.GetValue(_grant) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (grants.Count == 0 && !parse.GetValue(_admin))
        {
            return TokenCommand.Fail("create", "give --grant PATTERNS (what it may read) or --admin", ExitCodes.Usage);
        }

        if (AuthTokens.Check(name, grants, parse.GetValue(_admin)) is { } problem)
        {
            return TokenCommand.Fail("create", "--grant: " + problem["grants: ".Length..], ExitCodes.Usage);
        }

        var now = _time.GetUtcNow();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        DateTimeOffset? expires = null;
        if (parse.GetValue(_expires) is { } expiresText)
        {
            expires = AuthFile.ParseExpiry(expiresText, now, out var expiryProblem);
            if (expires is null)
            {
                return TokenCommand.Fail("create", expiryProblem!, ExitCodes.Usage);
            }
        }

        if (TokenCommand.ResolveAuthFile(parse.GetValue(_authFile)) is not { } file)
        {
            return ExitCodes.Usage;
        }

        AuthPrincipalEntry entry;
        string token;
        try
        {
            var created = AuthTokens.Create(file, name, grants, parse.GetValue(_admin), expires, now);
            if (created.Token is null)
            {
                return TokenCommand.Fail("create", $"\"{name}\" exists already in {file}; revoke it first to replace its token", ExitCodes.Usage);
            }

            (entry, token) = (created.Entry!, created.Token);
        }
        catch (AuthFileException e)
        {
            return TokenCommand.Fail("create", e.Message, ExitCodes.BadConfiguration);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return TokenCommand.Fail("create", $"cannot write {file}: {e.Message}", ExitCodes.CannotWrite);
        }

        if (parse.GetValue(_json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name, ["token"] = token }));
            return ExitCodes.Ok;
        }

        Console.Out.WriteLine($"created \"{name}\" in {file}: grants {(grants.Count == 0 ? "none" : string.Join(',', grants))}{(entry.Admin ? ", admin" : "")}, " +
                              (expires is { } e2 ? "expires " + e2.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "never expires"));
        Console.Out.WriteLine("the token (shown only now; put it in ~/.netrc as the password for the Warren host):");
        Console.Out.WriteLine(token);
        return ExitCodes.Ok;
    }
}

/// <summary>`warren token list`: names, grants, admin, expiry; never hashes.</summary>
public sealed class TokenListCommand : Command
{
    private readonly Option<string?> _authFile = TokenCommand.AuthFileOption();
    private readonly Option<bool> _json = new("--json") { Description = "print a JSON array" };

    private readonly TimeProvider _time;

    public TokenListCommand(TimeProvider time)
        : base("list", "List the principals of the auth file: name, grants, admin, expiry (never token hashes).")
    {
        Add(_authFile);
        Add(_json);
        SetAction(Run);
        _time = time;
    }

    private int Run(ParseResult parse)
    {
        if (TokenCommand.ResolveAuthFile(parse.GetValue(_authFile)) is not { } file)
        {
            return ExitCodes.Usage;
        }

        AuthFileDocument doc;
        try
        {
            doc = AuthFile.Load(file);
        }
        catch (AuthFileException e)
        {
            return TokenCommand.Fail("list", e.Message, ExitCodes.BadConfiguration);
        }

        var now = _time.GetUtcNow();
        if (parse.GetValue(_json))
        {
            var rows = doc.Principals.Select(p => new Dictionary<string, object?>
            {
                ["name"] = p.Name,
                ["grants"] = p.Grants,
                ["admin"] = p.Admin,
                ["expires"] = p.Expires,
                ["expired"] = p.Expires is { } x && x <= now,
                ["created"] = p.Created,
            }).ToList();
            Console.Out.WriteLine(JsonSerializer.Serialize(rows));
            return ExitCodes.Ok;
        }

        static string Date(DateTimeOffset? d) => d is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "never";
        var lines = doc.Principals.Select(p => new[]
        {
            p.Name, p.Grants.Count == 0 ? "-" : string.Join(',', p.Grants), p.Admin ? "admin" : "-",
            Date(p.Expires) + (p.Expires is { } x && x <= now ? " (expired)" : ""),
        }).ToList();
        if (Console.IsOutputRedirected)
        {
            foreach (var line in lines)
            {
                Console.Out.WriteLine(string.Join('\t', line));
            }

            return ExitCodes.Ok;
        }

        var header = new[] { "NAME", "GRANTS", "ADMIN", "EXPIRES (UTC)" };
        var widths = header.Select((h, i) => Math.Max(h.Length, lines.Count == 0 ? 0 : lines.Max(l => l[i].Length))).ToArray();
        foreach (var row in lines.Prepend(header))
        {
            Console.Out.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }

        if (lines.Count == 0)
        {
            Console.Out.WriteLine("(no principals)");
        }

        return ExitCodes.Ok;
    }
}

/// <summary>`warren token revoke NAME`.</summary>
public sealed class TokenRevokeCommand : Command
{
    private readonly Argument<string> _name = new("NAME") { Description = "the principal to remove" };
    private readonly Option<string?> _authFile = TokenCommand.AuthFileOption();

    public TokenRevokeCommand()
        : base("revoke", "Remove a principal; a running warren serve refuses its token as soon as it sees the file change (about a second).")
    {
        Add(_name);
        Add(_authFile);
        SetAction(Run);
    }

    private int Run(ParseResult parse)
    {
        var name = parse.GetValue(_name)!;
        if (TokenCommand.ResolveAuthFile(parse.GetValue(_authFile)) is not { } file)
        {
            return ExitCodes.Usage;
        }

        try
        {
            if (!File.Exists(file))
            {
                return TokenCommand.Fail("revoke", $"auth file {file} does not exist", ExitCodes.NotFound);
            }

            var removed = AuthTokens.Revoke(file, name);
            if (removed == 0)
            {
                return TokenCommand.Fail("revoke", $"no principal \"{name}\" in {file}", ExitCodes.NotFound);
            }
        }
        catch (AuthFileException e)
        {
            return TokenCommand.Fail("revoke", e.Message, ExitCodes.BadConfiguration);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return TokenCommand.Fail("revoke", $"cannot write {file}: {e.Message}", ExitCodes.CannotWrite);
        }

        Console.Out.WriteLine($"revoked \"{name}\" in {file}");
        return ExitCodes.Ok;
    }
}
