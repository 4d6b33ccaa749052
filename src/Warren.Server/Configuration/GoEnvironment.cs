namespace Warren.Server.Configuration;

/// <summary>The go command's own defaults and how it reads GOPROXY/GOSUMDB/GOPRIVATE/GONOPROXY/GONOSUMDB.</summary>
public static class GoEnvironment
{
    public const string DefaultProxy = "https://proxy.golang.org,direct";
    public const string DefaultSumDb = "sum.golang.org";

    /// <summary>Fills every setting that neither flags, appsettings nor WARREN_* gave from the process environment, then
    /// the go defaults. This is the one place the process environment is read for the options (the GO* variables and
    /// the proxy variables), once, before the options are frozen.</summary>
    public static void ApplyDefaults(WarrenOptionsBuilder options, Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(getEnv);
        static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

        options.Upstream ??= NonEmpty(getEnv("GOPROXY")) ?? DefaultProxy;
        options.SumDb ??= NonEmpty(getEnv("GOSUMDB")) ?? DefaultSumDb;
        options.Private ??= getEnv("GOPRIVATE") ?? "";
        options.NoProxy ??= getEnv("GONOPROXY") ?? options.Private;
        options.NoSumDb ??= getEnv("GONOSUMDB") ?? options.Private;
        options.GoInsecure ??= getEnv("GOINSECURE") ?? "";
        options.Root ??= Path.Combine(UserCacheDirectory(getEnv), "warren", "download");
        options.EnvironmentProxies ??= ReadProxies(getEnv);
        options.Tracing ??= Observability.TracingSettings.FromEnvironment(getEnv);
    }

    /// <summary>HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, each upper case, else lower case (as curl and Go read them).
    /// In a CGI environment (REQUEST_METHOD set) the upper-case HTTP_PROXY is not read: a client's "Proxy:" header
    /// arrives as that variable ("httpoxy"); curl ignores it likewise.</summary>
    public static ProxyEnvironment ReadProxies(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var cgi = getEnv("REQUEST_METHOD") is { Length: > 0 };
        string? Get(string upper, bool readUpper = true) =>
            readUpper && getEnv(upper) is { Length: > 0 } value ? value : getEnv(upper.ToLowerInvariant()) is { Length: > 0 } lower ? lower : null;
        return new ProxyEnvironment(Get("HTTP_PROXY", readUpper: !cgi), Get("HTTPS_PROXY"), Get("ALL_PROXY"), Get("NO_PROXY"));
    }

    /// <summary>os.UserCacheDir on Unix: $XDG_CACHE_HOME, else $HOME/.cache.</summary>
    public static string UserCacheDirectory(Func<string, string?> getEnv)
    {
        var xdg = getEnv("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return xdg;
        }

        var home = getEnv("HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return Path.Combine(home, ".cache");
    }
}
