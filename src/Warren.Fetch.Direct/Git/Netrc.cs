namespace Warren.Fetch.Direct.Git;

/// <summary>One complete "machine" entry of a .netrc file.</summary>
public sealed record NetrcEntry(string Machine, string Login, string Password)
{
    public override string ToString() => $"NetrcEntry {{ Machine = {Machine}, Login = {Login}, Password = *** }}";
}

/// <summary>.netrc reading as the go command does it (cmd/go/internal/auth/netrc.go): whitespace-separated tokens;
/// an entry is recorded once it has machine, login and password; "macdef" skips to the next empty line; parsing stops
/// at the keyword "default" (so, like cmd/go, a default entry is never used: it would hand one secret to every host).
/// Stricter than cmd/go in one corner: cmd/go stops only at a "default" left over at the end of a line, so in
/// "machine a login u" / "default login d" / "password p" it gives host a the default's password; here parsing stops
/// at "default" wherever it is a keyword. A value spelled "default" (a password) is an ordinary value.</summary>
public static class Netrc
{
    public static IReadOnlyList<NetrcEntry> Parse(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var entries = new List<NetrcEntry>();
        string? machine = null, login = null, password = null;
        var inMacro = false;
        var stop = false;
        foreach (var line in data.Split('\n'))
        {
            if (inMacro)
            {
                if (line.TrimEnd('\r').Length == 0)
                {
                    inMacro = false;
                }

                continue;
            }

            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var i = 0;
            for (; i < f.Length - 1 && !stop; i += 2)
            {
                switch (f[i])
                {
                    case "machine":
                        machine = f[i + 1];
                        login = null;
                        password = null;
                        break;
                    case "login":
                        login = f[i + 1];
                        break;
                    case "password":
                        password = f[i + 1];
                        break;
                    case "macdef":
                        inMacro = true;
                        break;
                    case "default":
                        stop = true;
                        continue;
                    default:
                        break;
                }

                if (machine is not null && login is not null && password is not null)
                {
                    entries.Add(new NetrcEntry(machine, login, password));
                    machine = login = password = null;
                }
            }

            if (stop || (i < f.Length && f[i] == "default"))
            {
                // "There can be only one default token, and it must be after all machine tokens."
                break;
            }
        }

        return entries;
    }

    /// <summary>The go command's choice: $NETRC, else ~/.netrc (_netrc on Windows).</summary>
    public static string? DefaultPath(Func<string, string?>? getEnvironment = null, string? home = null)
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        if (getEnvironment("NETRC") is { Length: > 0 } env)
        {
            return env;
        }

        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            return null;
        }

        return Path.Combine(home, OperatingSystem.IsWindows() ? "_netrc" : ".netrc");
    }

    /// <summary>Reads and parses a .netrc file; a missing or unreadable file has no entries (as in cmd/go).</summary>
    public static IReadOnlyList<NetrcEntry> Load(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return [];
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The first entry whose machine equals the host name (no port), as cmd/go's lookup does.</summary>
    public static NetrcEntry? Find(IReadOnlyList<NetrcEntry> entries, string host)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return entries.FirstOrDefault(e => string.Equals(e.Machine, host, StringComparison.OrdinalIgnoreCase));
    }
}
