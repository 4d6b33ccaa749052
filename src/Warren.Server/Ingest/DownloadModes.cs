using System.Diagnostics.CodeAnalysis;
using Warren.Fetch.Direct.Git;
using Warren.Protocol;
using Warren.Protocol.GoProxy;
using Warren.Server.Upstream;

namespace Warren.Server.Ingest;

/// <summary>What Warren does when a client asks for a version it does not hold (Athens's download modes, plus offline).</summary>
public enum DownloadMode
{
    /// <summary>Fetch, check, store, serve (the default).</summary>
    Sync,

    /// <summary>Answer 404 now; fetch and store the version in the background.</summary>
    Async,

    /// <summary>Answer 302 to the first upstream proxy; store nothing.</summary>
    Redirect,

    /// <summary>Answer 302 to the first upstream proxy now; fetch and store the version in the background.</summary>
    AsyncRedirect,

    /// <summary>Answer 404; fetch nothing.</summary>
    None,

    /// <summary>Serve only what is stored: no upstream is asked, not even for lists.</summary>
    Offline,
}

/// <summary>Names and traits of the download modes.</summary>
public static class DownloadModes
{
    /// <summary>The names --download-mode accepts, for messages.</summary>
    public const string Names = "sync, async, redirect, async_redirect, none or offline";

    /// <summary>The mode's name as written in --download-mode.</summary>
    public static string Name(this DownloadMode mode) => mode switch
    {
        DownloadMode.Sync => "sync",
        DownloadMode.Async => "async",
        DownloadMode.Redirect => "redirect",
        DownloadMode.AsyncRedirect => "async_redirect",
        DownloadMode.None => "none",
        _ => "offline",
    };

    /// <summary>The mode a name stands for, or null.</summary>
    public static DownloadMode? Parse(string name) => name switch
    {
        "sync" => DownloadMode.Sync,
        "async" => DownloadMode.Async,
        "redirect" => DownloadMode.Redirect,
        "async_redirect" => DownloadMode.AsyncRedirect,
        "none" => DownloadMode.None,
        "offline" => DownloadMode.Offline,
        _ => null,
    };

    /// <summary>Redirect and async_redirect: the client is sent to the upstream proxy.</summary>
    public static bool Redirects(this DownloadMode mode) => mode is DownloadMode.Redirect or DownloadMode.AsyncRedirect;

    /// <summary>Async and async_redirect: a missing version is fetched in the background.</summary>
    public static bool FetchesInBackground(this DownloadMode mode) => mode is DownloadMode.Async or DownloadMode.AsyncRedirect;
}

/// <summary>The --download-mode setting, parsed once: "GLOBS=MODE;GLOBS=MODE", first match wins, sync where none
/// matches. Redirects go to the first http(s) proxy of the upstream chain, under the request's escaped path, without
/// the user information of its URL (credentials configured for an upstream are Warren's, never the client's).</summary>
public sealed class DownloadModePolicy
{
    private readonly IReadOnlyList<PatternRule<DownloadMode>> _rules;
    private readonly string _noProxy;

    /// <param name="rules">The rules of the setting, parsed once at start-up (<see cref="Parse"/>).</param>
    public DownloadModePolicy(IReadOnlyList<PatternRule<DownloadMode>> rules, IOptions<WarrenOptions> options, ProtocolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        _rules = rules;
        _noProxy = NoProxyPatterns(options.Value);
        RedirectBase = FirstHttpProxy(settings.Upstream);
    }

    /// <summary>The rules as "GLOBS=MODE; …", then the default.</summary>
    public string Describe() => string.Concat(_rules.Select(r => $"{r.Patterns}={r.Mode.Name()}; ")) + "otherwise sync";

    /// <summary>Whether any rule is configured (without one, every path is sync).</summary>
    public bool IsConfigured => _rules.Count > 0;

    /// <summary>The base URL redirects point under (the first http(s) proxy, user information removed), or null.</summary>
    public Uri? RedirectBase { get; }

    /// <summary>The mode of a module path. A path that may only go direct (GONOPROXY, GOPRIVATE) or a chain without a
    /// proxy is never redirected: redirect then means sync, async_redirect async (start-up refuses rules that could
    /// only ever mean that).</summary>
    public DownloadMode Decide(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        var mode = PatternRules.FirstMatch(_rules, modulePath) ?? DownloadMode.Sync;
        if (mode.Redirects() && (RedirectBase is null || (_noProxy.Length > 0 && ModulePatterns.MatchPrefixPatterns(_noProxy, modulePath))))
        {
            return mode == DownloadMode.Redirect ? DownloadMode.Sync : DownloadMode.Async;
        }

        return mode;
    }

    /// <summary>Where a redirected request goes: the upstream proxy's URL of the same escaped path; null when the
    /// request cannot be written as a proxy path or there is no proxy.</summary>
    public Uri? RedirectTarget(ModuleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (RedirectBase is null)
        {
            return null;
        }

        try
        {
            return new Uri(RedirectBase, request.ProxyPath());
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The setting (null: none) parsed: its rules, or the error <see cref="Problems"/> reports.</summary>
    public static PatternRuleSetting<DownloadMode> Parse(string? text) => PatternRules.Parse(text, DownloadModes.Parse, DownloadModes.Names);

    /// <summary>One line per problem of the setting: it does not parse, or a redirect rule can only reach direct (the
    /// chain has no http(s) proxy, or the globs lie under --no-proxy/--private).</summary>
    public static IEnumerable<string> Problems(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DownloadMode))
        {
            yield break;
        }

        var (rules, error) = Parse(options.DownloadMode);
        if (error is not null)
        {
            yield return $"download mode \"{options.DownloadMode}\": {error}";
            yield break;
        }

        var upstream = options.Upstream ?? GoEnvironment.DefaultProxy;
        var chain = ProxyChain.TryParse(upstream, out _);
        var noProxy = NoProxyPatterns(options);
        foreach (var rule in rules.Where(r => r.Mode.Redirects()))
        {
            var entry = $"download mode \"{rule.Patterns}={rule.Mode.Name()}\"";
            if (chain is not null && FirstHttpProxy(chain) is null)
            {
                yield return $"{entry}: the upstream chain \"{SecretRedactor.RedactText(upstream)}\" has no http(s) proxy to redirect to (only direct, off or file://)";
            }

            foreach (var glob in rule.Patterns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (noProxy.Length > 0 && ModulePatterns.MatchPrefixPatterns(noProxy, glob.TrimEnd('/')))
                {
                    yield return $"{entry}: {glob} is under --no-proxy/--private (\"{noProxy}\"), whose modules only go direct; they cannot be redirected to a proxy";
                }
            }
        }
    }

    /// <summary>GONOPROXY and GOPRIVATE: paths never shown to a proxy (as the upstream chain routes them).</summary>
    private static string NoProxyPatterns(WarrenOptions o) =>
        string.Join(',', new[] { o.NoProxy, o.Private }.Where(p => !string.IsNullOrWhiteSpace(p)));

    /// <summary>The first http(s) proxy of the chain as a base URL ending in '/', without user information, query or fragment.</summary>
    private static Uri? FirstHttpProxy(IReadOnlyList<ProxySpec> chain)
    {
        foreach (var spec in chain)
        {
            if (!spec.IsDirect && !spec.IsOff && Uri.TryCreate(spec.Url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                var clean = new UriBuilder(uri) { UserName = "", Password = "", Query = "", Fragment = "" }.Uri;
                return new Uri(clean.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
            }
        }

        return null;
    }
}
