using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Warren.Fetch.Direct.Git;
using Warren.Server;
using Warren.Server.Mirror;
using Warren.Tools.Reporting;

namespace Warren.Cli.Commands;

/// <summary>`warren sync --from FEED --root DIR`: one pass over an index feed into a store, then exit (for cron).</summary>
public sealed class SyncCommand : Command
{
    private static readonly Option<string> _from = new("--from") { Description = "the index feed: another Warren's https://core/index, or https://index.golang.org/index with --patterns", Required = true };
    private static readonly Option<string> _root = new("--root") { Description = "the store directory to fill", Required = true };
    private static readonly Option<string?> _patterns = new("--patterns") { Description = "GOPRIVATE-style globs of the module paths to fetch (required for a public feed)" };
    private static readonly Option<string?> _upstream = new("--upstream") { Description = "where versions are fetched from, in GOPROXY syntax (default: the feed's own server for a Warren feed, else $GOPROXY)" };
    private static readonly Option<string?> _sumdb = new("--sumdb") { Description = "checksum database every fetched module is verified against, GOSUMDB syntax or off (default: $GOSUMDB, then sum.golang.org)" };
    private static readonly Option<int?> _concurrency = new("--concurrency") { Description = "versions fetched at once (default 4)" };
    private static readonly Option<string?> _rate = new("--rate") { Description = "the most bytes per second to fetch, e.g. 10M (default: no limit)" };
    private static readonly Option<bool> _json = new("--json") { Description = "print the summary as JSON" };
    private static readonly Option<string> _color = ReportOutput.ColorOption();

    public SyncCommand()
        : base("sync", """
            Make one pass over an index feed and fetch every new version into a store, then exit: what a mirror's nightly
            rsync job does. Each version goes through the upstream chain and all of Warren's checks (zip rules, go.mod,
            checksum database) before it is stored. The position in the feed is kept in the store's index, so the next
            run starts where this one stopped, and a run killed at any instant loses nothing and fetches nothing twice.

            Exit code 0 when every version was fetched or was already there, 2 when some failed, 64 on a usage error.

            Examples:
              warren sync --from https://core.example/index --root /srv/warren
              warren sync --from https://index.golang.org/index --upstream https://proxy.golang.org --patterns 'golang.org/x/*' --root /srv/warren
            """ + ReportOutput.Help)
    {
        foreach (var option in new Option[] { _from, _root, _patterns, _upstream, _sumdb, _concurrency, _rate, _json, _color })
        {
            Add(option);
        }

        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var from = parse.GetValue(_from)!;
        var upstream = parse.GetValue(_upstream);
        if (upstream is null && Uri.TryCreate(from, UriKind.Absolute, out var feed) && !FeedFollower.IsPublicFeed(feed) && feed.AbsolutePath.EndsWith("/index", StringComparison.Ordinal))
        {
            // Another Warren's feed: its versions come from that Warren.
            upstream = feed.GetLeftPart(UriPartial.Authority) + feed.AbsolutePath[..^"/index".Length];
        }

        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = WarrenHost.Build(o =>
            {
                o.Listen = "127.0.0.1:0";
                o.Root = parse.GetValue(_root);
                o.Upstream = upstream ?? o.Upstream;
                o.SumDb = parse.GetValue(_sumdb) ?? o.SumDb;
                o.Follow = from;
                o.FollowPatterns = parse.GetValue(_patterns);
                o.FollowConcurrency = parse.GetValue(_concurrency) ?? o.FollowConcurrency;
                o.FollowRate = parse.GetValue(_rate);
            });
            _ = app.Services.GetRequiredService<IOptions<Server.Configuration.WarrenOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("warren sync: invalid configuration: " + SecretRedactor.RedactText(failure)).ConfigureAwait(false);
            }

            return ExitCodes.Usage;
        }

        await using (app.ConfigureAwait(false))
        {
            var follower = app.Services.GetRequiredService<FeedFollower>();
            var style = ReportOutput.Style(parse, _color);
            var json = parse.GetValue(_json);
            FollowResult result;
            if (!json && style.Terminal)
            {
                result = await style.CreateConsole(Console.Out).Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask("versions");
                        return await follower.RunOnceAsync(from, (done, seen) =>
                        {
                            task.MaxValue = Math.Max(1, seen);
                            task.Value = done;
                        }, cancellationToken).ConfigureAwait(false);
                    }).ConfigureAwait(false);
            }
            else
            {
                result = await follower.RunOnceAsync(from, null, cancellationToken).ConfigureAwait(false);
            }

            var report = new Report("sync",
            [
                new Finding("summary", result.Failed > 0 ? Verdict.Fail : Verdict.Pass,
                    $"{result.Fetched} fetched, {result.Present} already stored, {result.Skipped} not matching, {result.Failed} failed, {result.Bytes} bytes; position {result.Cursor ?? "-"}",
                    result.Failed > 0 ? "see the log lines above for each failed version; run again to retry" : null, SecretRedactor.RedactText(from)),
            ]);
            if (json)
            {
                await Console.Out.WriteLineAsync(report.ToJson()).ConfigureAwait(false);
            }
            else
            {
                report.Write(Console.Out, style);
            }

            return report.ExitCode;
        }
    }
}
