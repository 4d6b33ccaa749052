using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Warren.Core.Modules;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Tools.GoEnv;
using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

/// <summary>Progress of a doctor run: a stage and how far it got (Total 0 when not countable).</summary>
public sealed record DoctorProgress(string Stage, int Done, int Total);

/// <summary>`warren doctor`: a preflight checklist of the go command's setup on this machine — the variables (syntax
/// and meaning), the network (every proxy and the checksum database), the module in a directory (requirements resolve,
/// go.sum complete, private modules reachable with the credentials present and kept away from the checksum database),
/// and the disk (caches writable, free space, leftovers of interrupted downloads).</summary>
public sealed partial class DoctorRunner
{
    private readonly GoEnvironmentSnapshot _go;
    private readonly DoctorOptions _options;
    private readonly Func<HttpMessageHandler> _handlerFactory;
    private readonly TimeProvider _time;

    /// <param name="go">The go command's settings (GOPROXY, GOSUMDB, GOMODCACHE…).</param>
    /// <param name="options">The module directory, the timeout and the user's environment.</param>
    /// <param name="handlerFactory">The HTTP handler to use; null for one honouring HTTPS_PROXY/HTTP_PROXY/NO_PROXY of
    /// <see cref="DoctorOptions.Environment"/>.</param>
    /// <param name="time">The clock for latencies, timeouts and file ages.</param>
    public DoctorRunner(GoEnvironmentSnapshot go, DoctorOptions options, Func<HttpMessageHandler>? handlerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(go);
        ArgumentNullException.ThrowIfNull(options);
        _go = go;
        _options = options;
        _handlerFactory = handlerFactory ?? (() => EnvironmentWebProxy.CreateHandler(options.Environment));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs every check and returns the findings in the order env, net, module, disk.</summary>
    public async Task<Report> RunAsync(IProgress<DoctorProgress>? progress, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        progress?.Report(new DoctorProgress("variables", 0, 0));
        var modFile = LoadGoMod(out var goModFinding);
        var settings = CheckVariables(findings, modFile is not null);

        using var clients = ToolHttp.Build(_handlerFactory);
        var http = new Http(clients.GetRequiredService<IHttpClientFactory>().CreateClient(ToolHttp.Doctor), _options.Timeout, _time);

        progress?.Report(new DoctorProgress("network", 0, settings.Chain?.Count ?? 0));
        await CheckNetworkAsync(findings, settings, modFile, http, cancellationToken).ConfigureAwait(false);

        if (goModFinding is not null)
        {
            findings.Add(goModFinding);
        }

        if (modFile is not null)
        {
            await CheckModuleAsync(findings, settings, modFile, http, progress, cancellationToken).ConfigureAwait(false);
        }

        progress?.Report(new DoctorProgress("disk", 0, 0));
        CheckDisk(findings);
        return new Report("doctor", findings);
    }

    /// <summary>The parsed settings the later checks depend on.</summary>
    private sealed record Settings(
        IReadOnlyList<ProxySpec>? Chain,
        SumDbConfig? SumDb,
        string? SumDbKey,
        string GoNoProxy,
        string GoNoSumDb);

    private GoModFile? LoadGoMod(out Finding? finding)
    {
        var path = Path.Combine(_options.ModuleDir, "go.mod");
        if (!File.Exists(path))
        {
            finding = new Finding("module.gomod", Verdict.Pass, $"no go.mod in {_options.ModuleDir}: module checks skipped", null, path);
            return null;
        }

        try
        {
            var file = GoModFile.Parse(path, File.ReadAllText(path));
            finding = new Finding("module.gomod", Verdict.Pass,
                $"module {file.Module ?? "(no module line)"}: {file.Requires.Count} requirements", null, path);
            return file;
        }
        catch (Exception e) when (e is GoModParseException or IOException or UnauthorizedAccessException)
        {
            finding = new Finding("module.gomod", Verdict.Fail, e.Message, "fix the go.mod syntax (go mod edit -fmt shows the error)", path);
            return null;
        }
    }

    /// <summary>host/org: the first two elements of a module path (the GOPRIVATE pattern to suggest).</summary>
    internal static string SuggestedPattern(string modulePath)
    {
        var parts = modulePath.Split('/');
        return parts.Length >= 2 ? parts[0] + "/" + parts[1] : parts[0];
    }

    internal static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");

    /// <summary>path/@v/list below a proxy URL (unescaped when the path cannot be escaped: the probe then fails).</summary>
    private static string ListPath(string path) => ModulePath.TryEscapePath(path, out _, out _) ? GoProxyPaths.List(path) : path + "/@v/list";

    /// <summary>path/@v/version + suffix below a proxy URL (unescaped when it cannot be escaped: the probe then fails).</summary>
    private static string VersionFile(string path, string version, string suffix) =>
        GoProxyPaths.TryVersionFile(path, version, suffix, out var relative, out _) ? relative : $"{path}/@v/{version}{suffix}";
}
