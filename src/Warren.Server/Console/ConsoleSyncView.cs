using System.Globalization;
using Warren.Fetch.Direct.Git;
using Warren.Server.Mirror;

namespace Warren.Server.ConsoleData;

/// <summary>The feed this node follows (<see cref="FeedFollower"/>: its status, or the saved cursor before the first
/// pass) and the bundles imported into the store (<see cref="BundleJournal"/>).</summary>
public sealed class ConsoleSyncView(FeedFollower follower, IModuleIndex index, IOptions<WarrenOptions> options)
{
    /// <summary>The feeds and bundles as a caller sees them: version failures only for modules it may read and, without
    /// operations detail (<see cref="ConsoleAccessRules.SeesOperations"/>), feeds by number, no patterns, errors without
    /// their text, and bundles by file name without their problem.</summary>
    public async Task<ConsoleSync> CurrentAsync(Func<string, bool> readable, bool operations, CancellationToken cancellationToken)
    {
        var all = await CurrentAsync(readable, cancellationToken).ConfigureAwait(false);
        return operations ? all : new ConsoleSync(
            all.Feeds.Select((f, i) => f with { Feed = "feed " + (i + 1).ToString(CultureInfo.InvariantCulture), Patterns = f.Patterns is null ? null : HiddenDetail, LastError = f.LastError is null ? null : FailingDetail }).ToList(),
            all.Bundles.Select(b => b with { Source = FileNameOf(b.Source), Detail = b.Detail is null ? null : HiddenDetail }).ToList());
    }

    /// <summary>What stands for a detail shown only to operators.</summary>
    public const string HiddenDetail = "(shown to administrators)";

    /// <summary>What stands for an error's text shown only to operators.</summary>
    public const string FailingDetail = "failing (details shown to administrators)";

    private static string FileNameOf(string path) =>
        Path.GetFileName(path.TrimEnd('/', '\\')) is { Length: > 0 } name ? name : "bundle";

    private async Task<ConsoleSync> CurrentAsync(Func<string, bool> readable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var o = options.Value;
        var feeds = new List<ConsoleFeed>();
        var statuses = follower.Status.ToDictionary(s => s.Feed, StringComparer.Ordinal);
        if (o.Follow is { } follow)
        {
            var shown = SecretRedactor.RedactText(follow);
            var status = statuses.GetValueOrDefault(shown);
            statuses.Remove(shown);
            var cursor = status?.Cursor ?? await index.GetCursorAsync(FeedFollower.CursorName(follow), cancellationToken).ConfigureAwait(false);
            feeds.Add(Feed(shown, o.FollowPatterns, o.FollowInterval, cursor, status, readable));
        }

        // Feeds synced once by this process (warren sync in the same host) without being followed.
        feeds.AddRange(statuses.Values.Select(s => Feed(s.Feed, null, TimeSpan.Zero, s.Cursor, s, readable)));
        var bundles = string.IsNullOrEmpty(o.Root) ? [] : BundleJournal.Read(BundleJournal.PathUnder(o.Root)).Reverse().ToList();
        return new ConsoleSync(feeds, bundles);
    }

    private static ConsoleFeed Feed(string feed, string? patterns, TimeSpan interval, string? cursor, FeedStatus? status, Func<string, bool> readable) =>
        new(feed, patterns, interval.TotalSeconds, cursor, status?.LagSeconds ?? 0, status?.LastPass, Visible(status?.LastError, readable), status?.FailedVersions ?? 0);

    /// <summary>A feed's status as a caller who may read only some modules sees it (the overview lists feeds too).</summary>
    public static FeedStatus Visible(FeedStatus status, Func<string, bool> readable)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status with { LastError = Visible(status.LastError, readable) };
    }

    /// <summary>A version's failure names it ("MODULE@VERSION: reason"): hidden from a caller who may not read the module.</summary>
    private static string? Visible(string? error, Func<string, bool> readable)
    {
        if (error is null)
        {
            return null;
        }

        var at = error.IndexOf('@', StringComparison.Ordinal);
        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        if (at > 0 && colon > at && !error.AsSpan(0, at).Contains(' ') && !readable(error[..at]))
        {
            return "a version failed (a module this token may not read)";
        }

        return error;
    }
}
