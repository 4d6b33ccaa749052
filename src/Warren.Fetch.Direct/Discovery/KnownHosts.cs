using System.Text.RegularExpressions;

namespace Warren.Fetch.Direct.Discovery;

/// <summary>What the table of well-known hosts says about an import path.</summary>
internal enum KnownHostKind
{
    /// <summary>No entry applies: a dynamic (?go-get=1) lookup is needed.</summary>
    Unknown,

    /// <summary>An entry applies but rejects the path; the message is the go command's.</summary>
    Invalid,

    /// <summary>The repository is known: root, vcs and URL (or, when SchemelessUrl, the URL without its scheme).</summary>
    Match,
}

/// <summary>The outcome of <see cref="KnownHosts.Lookup"/>.</summary>
internal sealed record KnownHostResult(KnownHostKind Kind, string Root = "", string Vcs = "", string Url = "", bool SchemelessUrl = false, string Message = "")
{
    public static readonly KnownHostResult Unknown = new(KnownHostKind.Unknown);

    public static KnownHostResult Invalid(string message) => new(KnownHostKind.Invalid, Message: message);
}

/// <summary>
/// The go command's (1.19) table of hosting sites whose repository layout it knows without asking them (vcsPaths), and
/// the one entry consulted only after a failed dynamic lookup (vcsPathsAfterDynamic: Launchpad).
/// </summary>
internal static partial class KnownHosts
{
    /// <summary>The version control systems the go command knows, in its order (vcsList).</summary>
    public static readonly IReadOnlyList<string> VcsCommands = ["hg", "git", "svn", "bzr", "fossil"];

    private sealed record Entry(string PathPrefix, Regex Pattern, string Vcs, string Repo, bool CheckNoVcsSuffix, bool SchemelessRepo = false);

    // A path-element run: letters, digits, '_', '.', '-'.
    private static readonly Entry[] BeforeDynamic =
    [
        new("github.com", GitHub(), "git", "https://{root}", CheckNoVcsSuffix: true),
        new("bitbucket.org", Bitbucket(), "git", "https://{root}", CheckNoVcsSuffix: true),
        new("hub.jazz.net/git", JazzHub(), "git", "https://{root}", CheckNoVcsSuffix: true),
        new("git.apache.org", Apache(), "git", "https://{root}", CheckNoVcsSuffix: false),
        new("git.openstack.org", OpenStack(), "git", "https://{root}", CheckNoVcsSuffix: false),
        new("chiselapp.com", Chiselapp(), "fossil", "https://{root}", CheckNoVcsSuffix: false),

        // Any host, when a path element ends in a version control suffix: "example.com/repo.git/sub". Must be last.
        new("", VcsSuffix(), "{vcs}", "{repo}", CheckNoVcsSuffix: false, SchemelessRepo: true),
    ];

    private static readonly Entry[] AfterDynamic =
    [
        // Launchpad (bzr). The go command also probes code.launchpad.net to tell a series from a subdirectory; bzr is
        // not supported here, so that probe would not change the outcome and is not made.
        new("launchpad.net", Launchpad(), "bzr", "https://{root}", CheckNoVcsSuffix: false),
    ];

    /// <summary>repoRootFromVCSPaths over the main table.</summary>
    public static KnownHostResult Lookup(string importPath) => Lookup(importPath, BeforeDynamic);

    /// <summary>repoRootFromVCSPaths over the table consulted after a failed dynamic lookup.</summary>
    public static KnownHostResult LookupAfterDynamic(string importPath) => Lookup(importPath, AfterDynamic);

    private static KnownHostResult Lookup(string importPath, Entry[] table)
    {
        // The go command's own special cases, kept so that the same paths behave the same way.
        if (GoImportMeta.HasPathPrefix(importPath, "example.net"))
        {
            return KnownHostResult.Invalid("no modules on example.net");
        }

        if (importPath == "rsc.io")
        {
            return KnownHostResult.Invalid("rsc.io is not a module");
        }

        foreach (string scheme in (ReadOnlySpan<string>)["http:", "https:"])
        {
            if (importPath.StartsWith(scheme, StringComparison.Ordinal))
            {
                return KnownHostResult.Invalid($"{GoImportMeta.Quote(scheme + "//")} not allowed in import path");
            }
        }

        foreach (Entry entry in table)
        {
            if (!GoImportMeta.HasPathPrefix(importPath, entry.PathPrefix))
            {
                continue;
            }

            Match m = entry.Pattern.Match(importPath);
            if (!m.Success)
            {
                if (entry.PathPrefix.Length > 0)
                {
                    return KnownHostResult.Invalid($"invalid {entry.PathPrefix} import path {GoImportMeta.Quote(importPath)}");
                }

                continue;
            }

            string root = m.Groups["root"].Value;
            string vcs = entry.Vcs == "{vcs}" ? m.Groups["vcs"].Value : entry.Vcs;
            string repo = entry.Repo.Replace("{root}", root, StringComparison.Ordinal)
                .Replace("{repo}", m.Groups["repo"].Value, StringComparison.Ordinal);
            if (entry.CheckNoVcsSuffix && VcsCommands.Any(v => repo.EndsWith("." + v, StringComparison.Ordinal)))
            {
                return KnownHostResult.Invalid($"invalid version control suffix in {entry.PathPrefix}/ path");
            }

            return new KnownHostResult(KnownHostKind.Match, root, vcs, repo, entry.SchemelessRepo);
        }

        return KnownHostResult.Unknown;
    }

    // The patterns are Go's, anchored with \z rather than $ (which in .NET also matches before a final newline).
    // The general rule is unanchored at the start, like Go's (a leftmost match).
    [GeneratedRegex(@"^(?<root>github\.com/[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+)(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex GitHub();

    [GeneratedRegex(@"^(?<root>bitbucket\.org/(?<bitname>[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+))(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Bitbucket();

    [GeneratedRegex(@"^(?<root>hub\.jazz\.net/git/[a-z0-9]+/[A-Za-z0-9_.\-]+)(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex JazzHub();

    [GeneratedRegex(@"^(?<root>git\.apache\.org/[a-z0-9_.\-]+\.git)(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Apache();

    [GeneratedRegex(@"^(?<root>git\.openstack\.org/[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+)(\.git)?(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex OpenStack();

    [GeneratedRegex(@"^(?<root>chiselapp\.com/user/[A-Za-z0-9]+/repository/[A-Za-z0-9_.\-]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Chiselapp();

    // Go evaluates this with RE2 (linear time). The nested quantifiers would backtrack exponentially on long dotted
    // inputs in a backtracking engine, so the non-backtracking engine is used; it reports the same leftmost match
    // with the same captures for this pattern.
    [GeneratedRegex(@"(?<root>(?<repo>([a-z0-9.\-]+\.)+[a-z0-9.\-]+(:[0-9]+)?(/~?[A-Za-z0-9_.\-]+)+?)\.(?<vcs>bzr|fossil|git|hg|svn))(/~?[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking)]
    private static partial Regex VcsSuffix();

    [GeneratedRegex(@"^(?<root>launchpad\.net/((?<project>[A-Za-z0-9_.\-]+)(?<series>/[A-Za-z0-9_.\-]+)?|~[A-Za-z0-9_.\-]+/(\+junk|[A-Za-z0-9_.\-]+)/[A-Za-z0-9_.\-]+))(/[A-Za-z0-9_.\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Launchpad();
}
