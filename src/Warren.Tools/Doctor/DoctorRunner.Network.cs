using System.Text;
using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Protocol.GoProxy;
using Warren.Protocol.SumDb;
using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

public sealed partial class DoctorRunner
{
    private async Task CheckNetworkAsync(List<Finding> findings, Settings settings, GoModFile? modFile, Http http, CancellationToken cancellationToken)
    {
        if (settings.Chain is null)
        {
            return;
        }

        // A module of the go.mod makes the probe a real protocol request; without one any answer shows the proxy is there.
        var sample = modFile?.Requires.FirstOrDefault(r => !ModulePatterns.MatchPrefixPatterns(settings.GoNoProxy, r.Path));
        var outbound = EnvironmentWebProxy.FromEnvironment(_options.Environment);
        foreach (var spec in settings.Chain.Where(s => !s.IsDirect && !s.IsOff))
        {
            if (spec.Url.StartsWith("file:", StringComparison.Ordinal))
            {
                var dir = new Uri(spec.Url).LocalPath;
                findings.Add(Directory.Exists(dir)
                    ? new Finding("net.proxy", Verdict.Pass, $"directory {dir} exists", null, spec.Url)
                    : new Finding("net.proxy", Verdict.Fail, $"directory {dir} does not exist", "fix the file:// URL in GOPROXY", spec.Url));
                continue;
            }

            var url = sample is null ? spec.Url + "/" : $"{spec.Url}/{ListPath(sample.Path)}";
            var via = outbound.GetProxy(new Uri(url)) is { } p ? $" via outbound proxy {p.GetLeftPart(UriPartial.Authority)}" : "";
            var probe = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            if (probe.Status is >= 500)
            {
                findings.Add(new Finding("net.proxy", Verdict.Fail, $"GET {url}{via} {probe.Describe()}: the proxy is failing",
                    "check the proxy's logs and health, or put it behind '|' in GOPROXY so errors fall through", spec.Url));
            }
            else if (probe.Status is 401 or 403 or 407)
            {
                findings.Add(new Finding("net.proxy", Verdict.Fail, $"GET {url}{via} {probe.Describe()}: the proxy wants credentials",
                    probe.Status == 407
                        ? "give the outbound proxy's credentials in HTTPS_PROXY (http://user:token@host:port)"
                        : "put the proxy's credentials in ~/.netrc (machine HOST login USER password TOKEN) or in the GOPROXY URL",
                    spec.Url));
            }
            else if (probe.Status is not null)
            {
                findings.Add(new Finding("net.proxy", Verdict.Pass, $"reachable: GET {url}{via} {probe.Describe()}", null, spec.Url));
            }
            else
            {
                findings.Add(new Finding("net.proxy", Verdict.Fail, $"unreachable: GET {url}{via}: {probe.Describe()}",
                    via.Length > 0
                        ? "check the outbound proxy (HTTPS_PROXY/HTTP_PROXY) or add the host to NO_PROXY"
                        : "check the URL in GOPROXY, DNS, firewall, and HTTPS_PROXY/NO_PROXY if a proxy is needed",
                    spec.Url));
            }
        }

        await CheckSumDbAsync(findings, settings, http, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where the go command reaches the checksum database: the first proxy answering 200 to
    /// /sumdb/NAME/supported (404/410 moves on; any other answer stops it), else the database itself; an explicit URL in
    /// GOSUMDB bypasses the proxies. The tree head there must verify with the key.</summary>
    private async Task CheckSumDbAsync(List<Finding> findings, Settings settings, Http http, CancellationToken cancellationToken)
    {
        if (settings.SumDb is not { } db || settings.SumDbKey is not { } key)
        {
            return;
        }

        // The go command's list: the proxies' /sumdb/NAME/ in turn, then the database itself (its URL alone when given).
        var candidates = SumDbEndpoints.BaseUrlsFor(db, settings.Chain!);
        string? target = null;
        foreach (var candidate in candidates.Take(candidates.Count - 1))
        {
            var baseUrl = candidate.AbsoluteUri.TrimEnd('/');
            var subject = baseUrl[..^("/sumdb/" + db.Name).Length];
            var url = baseUrl + "/supported";
            var probe = await http.GetAsync(url, cancellationToken).ConfigureAwait(false);
            if (probe.IsOk)
            {
                findings.Add(new Finding("net.sumdb", Verdict.Pass, $"GET {url} {probe.Describe()}: the go command reaches {db.Name} through this proxy", null, subject));
                target = baseUrl;
                break;
            }

            if (probe.IsNotFound)
            {
                findings.Add(new Finding("net.sumdb", Verdict.Pass, $"GET {url} {probe.Describe()}: the proxy does not serve {db.Name}; the go command asks the next proxy or the database itself", null, subject));
                continue;
            }

            findings.Add(new Finding("net.sumdb", Verdict.Fail, $"GET {url} {probe.Describe()}: the go command stops verifying checksums with this error",
                "fix the proxy, or give GOSUMDB an explicit URL to bypass it", subject));
            return;
        }

        target ??= candidates[^1].AbsoluteUri.TrimEnd('/');

        var latest = target + "/latest";
        var answer = await http.GetAsync(latest, cancellationToken).ConfigureAwait(false);
        if (!answer.IsOk || answer.Body is null)
        {
            findings.Add(new Finding("net.sumdb", Verdict.Fail, $"GET {latest} {answer.Describe()}: checksums of new modules cannot be verified",
                "make the checksum database reachable (HTTPS_PROXY/NO_PROXY, firewall), serve it through GOPROXY, or list private modules in GONOSUMDB",
                latest));
            return;
        }

        try
        {
            var tree = TreeHead.OpenSigned(answer.Body, NoteVerifierList.FromKeys(key));
            findings.Add(new Finding("net.sumdb", Verdict.Pass, $"GET {latest} {answer.Describe()}: signed tree of {tree.Size} records verifies with the key", null, latest));
        }
        catch (Exception e) when (e is NoteException or FormatException)
        {
            var first = Encoding.UTF8.GetString(answer.Body.AsSpan(0, Math.Min(answer.Body.Length, 80))).Split('\n')[0];
            findings.Add(new Finding("net.sumdb", Verdict.Fail, $"GET {latest} answers a tree head that does not verify with the key: {e.Message} (\"{first}\")",
                "check the key in GOSUMDB and that the URL is the checksum database (not a login page)", latest));
        }
    }
}
