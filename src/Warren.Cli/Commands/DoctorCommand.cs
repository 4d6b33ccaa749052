using System.CommandLine;
using Spectre.Console;
using Warren.Tools.Doctor;
using Warren.Tools.GoEnv;

namespace Warren.Cli.Commands;

/// <summary>`warren doctor`: a preflight checklist of the go command's setup on this machine.</summary>
public sealed class DoctorCommand : Command
{
    private readonly Option<string?> _moduleDir = new("--module-dir") { Description = "the module to check (go.mod, go.sum); default: the current directory" };
    private readonly Option<bool> _json = new("--json") { Description = "print the report as JSON" };
    private readonly Option<string> _color = ReportOutput.ColorOption();
    private readonly Option<double> _timeout = new("--timeout") { Description = "seconds each network request or git command may take", DefaultValueFactory = _ => 10 };

    public DoctorCommand()
        : base("doctor", """
            Check that the go command can fetch and verify modules here: GOPROXY, GOPRIVATE/GONOPROXY/GONOSUMDB, GOSUMDB
            and GOFLAGS (syntax and meaning); every proxy and the checksum database reachable (latency, errors); the
            module's requirements resolving through the proxy chain, go.sum complete, private modules reachable with git
            and the credentials present (.netrc, ssh, url.insteadOf) and kept out of the checksum database; the module and
            build caches writable, free space, and leftovers of interrupted downloads.

            Settings come from `go env -json` when go is on PATH, else from the environment.
            Exit code: 0 all passed, 1 warnings, 2 failures.

            Examples:
              warren doctor
              warren doctor --module-dir ./service --timeout 5
              GOPRIVATE=git.example.com/team warren doctor --json | jq '.findings[] | select(.verdict != "Pass")'
              warren doctor | grep -v -P '^PASS\t'

            """ + ReportOutput.Help)
    {
        Add(_moduleDir);
        Add(_json);
        Add(_timeout);
        Add(_color);
        SetAction((parse, ct) => RunAsync(parse, ct));
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var seconds = parse.GetValue(_timeout);
        if (!(seconds > 0) || seconds > 3600)
        {
            Console.Error.WriteLine("warren doctor: --timeout must be between 0 and 3600 seconds");
            return ExitCodes.Usage;
        }

        var moduleDir = Path.GetFullPath(parse.GetValue(_moduleDir) ?? Directory.GetCurrentDirectory());
        if (!Directory.Exists(moduleDir))
        {
            Console.Error.WriteLine($"warren doctor: --module-dir {moduleDir} does not exist");
            return ExitCodes.Usage;
        }

        var json = parse.GetValue(_json);
        var environment = GoEnvironmentSnapshot.ProcessEnvironment();
        var go = await GoEnvironmentSnapshot.LoadAsync(environment, null, cancellationToken, moduleDir).ConfigureAwait(false);
        var runner = new DoctorRunner(go, new DoctorOptions
        {
            ModuleDir = moduleDir,
            Timeout = TimeSpan.FromSeconds(seconds),
            Environment = environment,
        });

        var style = ReportOutput.Style(parse, _color);
        Warren.Tools.Reporting.Report report;
        if (json || !style.Terminal)
        {
            report = await runner.RunAsync(null, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            report = await style.CreateConsole(Console.Out).Progress()
                .AutoClear(true)
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var progress = new SynchronousProgress(p =>
                    {
                        lock (tasks)
                        {
                            if (!tasks.TryGetValue(p.Stage, out var task))
                            {
                                foreach (var previous in tasks.Values)
                                {
                                    previous.Value = previous.MaxValue;
                                }

                                task = tasks[p.Stage] = context.AddTask(p.Stage, maxValue: Math.Max(1, p.Total));
                            }

                            task.Value = p.Total == 0 ? 0 : p.Done;
                        }
                    });
                    var result = await runner.RunAsync(progress, cancellationToken).ConfigureAwait(false);
                    lock (tasks)
                    {
                        foreach (var task in tasks.Values)
                        {
                            task.Value = task.MaxValue;
                        }
                    }

                    return result;
                }).ConfigureAwait(false);
        }

        if (json)
        {
            Console.Out.WriteLine(report.ToJson());
        }
        else
        {
            var settings = $"settings from {go.Source}{(go.GoBinary is null ? "" : " (" + go.GoBinary + ")")}, module dir {moduleDir}";
            if (style.Terminal)
            {
                var console = style.CreateConsole(Console.Out);
                console.MarkupLine($"[grey]{Markup.Escape(settings)}[/]");
                report.Render(console);
            }
            else
            {
                Console.Out.WriteLine(settings);
                report.WriteLines(Console.Out, style.Color);
            }
        }

        return report.ExitCode;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    private sealed class SynchronousProgress(Action<DoctorProgress> report) : IProgress<DoctorProgress>
    {
        public void Report(DoctorProgress value) => report(value);
    }
}
