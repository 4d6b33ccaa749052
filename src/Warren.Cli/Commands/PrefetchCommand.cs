using System.CommandLine;
using Spectre.Console;
using Warren.Protocol.GoProxy;
using Warren.Tools.GoEnv;
using Warren.Tools.Prefetch;

namespace Warren.Cli.Commands;

/// <summary>`warren prefetch`: fetch the full build list of modules through a proxy (warming it) or into a module cache.</summary>
public sealed class PrefetchCommand : Command
{
    private readonly Option<string?> _proxy = new("--proxy") { Description = "the GOPROXY URL to fetch through (default: the first proxy URL of GOPROXY)" };
    private readonly Option<string?> _modCache = new("--modcache") { Description = "write the files into this module cache (GOMODCACHE layout, zips checked against go.sum) instead of only warming the proxy" };
    private readonly Option<int> _jobs = new("--jobs") { Description = "concurrent requests", DefaultValueFactory = _ => 8 };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();
    private readonly Argument<string[]> _inputs = new("go.mod|go.sum|DIR") { Description = "go.mod files (their build list is computed), go.sum files (every line), or module directories", Arity = ArgumentArity.OneOrMore };

    public PrefetchCommand()
        : base("prefetch", """
            Fetch the full build list of one or many modules through a proxy, or into a module cache.

            A go.sum contributes every "path version" line (.info, .mod and .zip) and every "path version/go.mod" line
            (.mod). A go.mod (or a directory holding one) contributes its build list, computed by minimum version
            selection over the requirement graph read from the proxy, with the main module's replace and exclude
            directives: every go.mod visited, and the .info, .mod and .zip of each selected module.

            Without --modcache the bodies are read and thrown away: a caching proxy such as Warren keeps them, so CI
            jobs started afterwards find everything warm. With --modcache DIR the files are written to
            DIR/cache/download in the go command's layout (each zip checked and its hash compared with go.sum), so that
            GOMODCACHE=DIR GOPROXY=off go build works offline.

            Exit code 0 when everything was fetched, 1 with warnings, 2 with failures, 64 on a usage error.

            Examples:
              warren prefetch --proxy http://warren:3000 go.mod
              warren prefetch --proxy http://warren:3000 --jobs 16 services/*/go.mod
              warren prefetch --modcache /go/pkg/mod go.sum
              warren prefetch --json . > prefetch.json
              warren prefetch --proxy http://warren:3000 go.sum | grep -P '^FAIL\t' | cut -f3

            """ + ReportOutput.Help)
    {
        foreach (var option in new Option[] { _proxy, _modCache, _jobs, _json, _color })
        {
            Add(option);
        }

        Add(_inputs);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var json = parse.GetValue(_json);
        var jobs = parse.GetValue(_jobs);
        if (jobs < 1)
        {
            await Console.Error.WriteLineAsync("warren prefetch: --jobs must be at least 1").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var proxy = parse.GetValue(_proxy);
        if (string.IsNullOrEmpty(proxy))
        {
            var env = await GoEnvironmentSnapshot.LoadAsync(GoEnvironmentSnapshot.ProcessEnvironment(), null, cancellationToken).ConfigureAwait(false);
            proxy = ProxyChain.FirstProxyUrl(env["GOPROXY"]);
            if (proxy is null)
            {
                await Console.Error.WriteLineAsync($"warren prefetch: GOPROXY ({env["GOPROXY"]}) names no proxy URL: give --proxy URL").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }

        if (!Uri.TryCreate(proxy, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            await Console.Error.WriteLineAsync($"warren prefetch: {proxy} is not an http(s) URL").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var prefetcher = new Prefetcher(new PrefetchOptions(parse.GetValue(_inputs)!, proxy, parse.GetValue(_modCache), jobs));
        var style = ReportOutput.Style(parse, _color);
        PrefetchResult result;
        if (!json && style.Terminal)
        {
            result = await ReportOutput.WithProgressAsync(style, async ctx =>
            {
                var resolve = ctx.AddTask("go.mod files read");
                resolve.IsIndeterminate = true;
                ProgressTask? fetch = null;
                prefetcher.OnResolveProgress = n => resolve.Description = $"go.mod files read: {n}";
                prefetcher.OnFetchProgress = (done, total) =>
                {
                    if (fetch is null)
                    {
                        resolve.IsIndeterminate = false;
                        resolve.Value = resolve.MaxValue;
                        resolve.StopTask();
                        fetch = ctx.AddTask("module versions", maxValue: Math.Max(1, total));
                    }

                    fetch.Value = done;
                };
                var r = await prefetcher.RunAsync(cancellationToken).ConfigureAwait(false);
                resolve.StopTask();
                fetch?.StopTask();
                return r;
            }).ConfigureAwait(false);
        }
        else
        {
            result = await prefetcher.RunAsync(cancellationToken).ConfigureAwait(false);
        }

        return await ReportOutput.WriteAsync(result.Report, json, style).ConfigureAwait(false);
    }
}
