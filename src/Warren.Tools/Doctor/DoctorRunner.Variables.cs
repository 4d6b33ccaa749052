using Warren.Core.Modules;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;
using Warren.Protocol.GoProxy;
using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

public sealed partial class DoctorRunner
{
    /// <summary>Flags GOFLAGS may carry: the build flags the go command accepts everywhere (cmd/go/internal/work) and
    /// the test flags it allows there.</summary>
    private static readonly HashSet<string> KnownFlags = new(StringComparer.Ordinal)
    {
        "a", "asan", "asmflags", "buildmode", "buildvcs", "compiler", "cover", "covermode", "coverpkg", "gccgoflags", "gcflags",
        "installsuffix", "ldflags", "linkshared", "mod", "modcacherw", "modfile", "msan", "n", "overlay", "p", "pgo", "pkgdir",
        "race", "tags", "toolexec", "trimpath", "v", "work", "x", "json", "count", "failfast", "short", "timeout", "vet",
        "benchtime", "cpu", "parallel", "shuffle", "benchmem", "run", "bench", "coverprofile",
    };

    private Settings CheckVariables(List<Finding> findings, bool hasGoMod)
    {
        var chain = CheckGoProxy(findings);
        CheckPatterns(findings);
        var (sumdb, key) = CheckGoSumDb(findings);
        CheckGoFlags(findings, hasGoMod);
        if (_go["GO111MODULE"] == "off")
        {
            findings.Add(new Finding("env.go111module", Verdict.Fail, "GO111MODULE=off: module mode is disabled, GOPROXY and go.sum are ignored",
                "unset GO111MODULE (or go env -w GO111MODULE=on)"));
        }

        return new Settings(chain, sumdb, key, _go["GONOPROXY"], _go["GONOSUMDB"]);
    }

    private List<ProxySpec>? CheckGoProxy(List<Finding> findings)
    {
        var value = _go["GOPROXY"];
        var chain = ProxyChain.TryParse(value, out var error)?.ToList();
        if (chain is null)
        {
            findings.Add(new Finding("env.goproxy", Verdict.Fail, $"GOPROXY={value}: {error}",
                "export GOPROXY=https://proxy.golang.org,direct (a comma- or |-separated list of URLs, then direct or off)"));
            return null;
        }

        var last = chain[^1];
        if (chain.Count == 1 && last.IsOff)
        {
            findings.Add(new Finding("env.goproxy", Verdict.Warn,
                "GOPROXY=off: the go command downloads nothing; only modules already in the module cache (or vendor/) build",
                "export GOPROXY=https://proxy.golang.org,direct (or your proxy) when downloads are wanted"));
        }
        else if (last.IsOff)
        {
            findings.Add(new Finding("env.goproxy", Verdict.Warn,
                $"GOPROXY={value} ends with off: a module no proxy has fails with \"disabled by GOPROXY=off\" instead of being fetched from its origin",
                "end GOPROXY with ,direct unless a proxy is meant to serve every module"));
        }
        else if (!last.IsDirect)
        {
            findings.Add(new Finding("env.goproxy", Verdict.Warn,
                $"GOPROXY={value} has no direct as last resort: a module no proxy has cannot be fetched (fine when the proxy serves everything)",
                "append ,direct to GOPROXY unless the proxy is meant to serve every module"));
        }
        else
        {
            findings.Add(new Finding("env.goproxy", Verdict.Pass, $"GOPROXY={value}: {chain.Count - 1} {(chain.Count == 2 ? "proxy" : "proxies")}, then direct"));
        }

        return chain;
    }

    private void CheckPatterns(List<Finding> findings)
    {
        foreach (var name in new[] { "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE" })
        {
            var value = _go[name];
            if (value.Length == 0)
            {
                continue;
            }

            var check = "env." + name.ToLowerInvariant();
            if (ModulePatterns.Validate(value) is { } error)
            {
                findings.Add(new Finding(check, Verdict.Fail, $"{name}={value}: {error}; the go command rejects it",
                    $"export {name}=host/org,*.corp.example.com (comma-separated path.Match globs of module path prefixes)"));
            }
            else if (name == "GOINSECURE")
            {
                findings.Add(new Finding(check, Verdict.Warn, $"GOINSECURE={value}: modules matching it are fetched over plain http, without TLS",
                    "unset GOINSECURE once the hosts serve https"));
            }
            else
            {
                findings.Add(new Finding(check, Verdict.Pass, $"{name}={value}"));
            }
        }
    }

    private (SumDbConfig? Config, string? Key) CheckGoSumDb(List<Finding> findings)
    {
        var value = _go["GOSUMDB"];
        var config = SumDbConfig.TryParse(value, out var error);
        if (error is not null)
        {
            findings.Add(new Finding("env.gosumdb", Verdict.Fail, $"GOSUMDB={value}: {error}",
                "unset GOSUMDB (sum.golang.org) or set it to NAME+KEY [URL]"));
            return (null, null);
        }

        if (config is null)
        {
            findings.Add(new Finding("env.gosumdb", Verdict.Warn,
                "GOSUMDB=off: checksums of new modules are not verified against a checksum database (go.sum is trusted on first use)",
                "unset GOSUMDB (sum.golang.org), or set it to your checksum database, and use GONOSUMDB/GOPRIVATE for private modules"));
            return (null, null);
        }

        var key = config.EffectiveKey;
        if (key is null)
        {
            findings.Add(new Finding("env.gosumdb", Verdict.Fail, $"GOSUMDB={value}: no verifier key is known for {config.Name}",
                $"export GOSUMDB=\"{config.Name}+<hash>+<key>{(config.Url is null ? "" : " " + config.Url)}\" (the verifier key the database publishes)"));
            return (config, null);
        }

        if (!NoteVerifier.TryParse(key, out var verifier, out var keyError))
        {
            findings.Add(new Finding("env.gosumdb", Verdict.Fail, $"GOSUMDB key is malformed: {keyError}",
                "copy the verifier key exactly as the database publishes it (name+hash+base64)"));
            return (config, null);
        }

        if (verifier.Name != config.Name)
        {
            findings.Add(new Finding("env.gosumdb", Verdict.Fail, $"GOSUMDB key names {verifier.Name}, not {config.Name}", "use the key of the database named"));
            return (config, null);
        }

        findings.Add(new Finding("env.gosumdb", Verdict.Pass,
            $"GOSUMDB={value}: key {verifier.Name}+{verifier.KeyHash:x8} well formed{(config.Url is null ? "" : ", reached at " + config.Url)}"));
        return (config, key);
    }

    private void CheckGoFlags(List<Finding> findings, bool hasGoMod)
    {
        var value = _go["GOFLAGS"];
        if (value.Trim().Length == 0)
        {
            return;
        }

        var problems = 0;
        foreach (var flag in value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (!flag.StartsWith('-'))
            {
                problems++;
                findings.Add(new Finding("env.goflags", Verdict.Fail, $"GOFLAGS holds \"{flag}\", not a flag: the go command refuses to run",
                    "GOFLAGS is a space-separated list of -flag[=value]"));
                continue;
            }

            var body = flag.TrimStart('-');
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            var name = eq >= 0 ? body[..eq] : body;
            var arg = eq >= 0 ? body[(eq + 1)..] : null;
            if (!KnownFlags.Contains(name))
            {
                problems++;
                findings.Add(new Finding("env.goflags", Verdict.Warn, $"GOFLAGS holds {flag}, not a go build flag: commands that lack it fail or ignore it",
                    $"remove {flag} from GOFLAGS"));
            }
            else if (name == "mod" && arg is not ("mod" or "readonly" or "vendor"))
            {
                problems++;
                findings.Add(new Finding("env.goflags", Verdict.Fail, $"GOFLAGS holds {flag}: -mod takes mod, readonly or vendor",
                    "use -mod=mod, -mod=readonly or -mod=vendor"));
            }
            else if (name == "mod" && arg == "vendor" && hasGoMod && !Directory.Exists(Path.Combine(_options.ModuleDir, "vendor")))
            {
                problems++;
                findings.Add(new Finding("env.goflags", Verdict.Fail,
                    $"GOFLAGS holds -mod=vendor but {_options.ModuleDir} has no vendor directory: builds fail with inconsistent vendoring",
                    "run go mod vendor, or remove -mod=vendor from GOFLAGS"));
            }
        }

        if (problems == 0)
        {
            findings.Add(new Finding("env.goflags", Verdict.Pass, $"GOFLAGS={value}"));
        }
    }
}
