using System.Text.Json.Nodes;

namespace Warren.Tools.Tests.Audit;

/// <summary>
/// The world an audit looks at, built by the test: a loopback GOPROXY serving modules made here (a retracted version,
/// a deprecated module, vulnerable versions), a loopback server with a vulnerability database in the current layout,
/// and two repositories, A (a module) and B (a go.work), pinned to different versions.
/// </summary>
public sealed class AuditWorld : IAsyncLifetime
{
    public const string Retracted = "example.test/retracted";
    public const string Deprecated = "example.test/deprecated";
    public const string Vulnerable = "example.test/vulnerable";
    public const string MajorFix = "example.test/majorfix";
    public const string Replaced = "example.test/replaced";
    public const string Fork = "example.test/fork";
    public const string Local = "example.test/local";

    /// <summary>Affects vulnerable &lt; v1.2.0, package vulnerable/parse (imported by A).</summary>
    public const string ParseAdvisory = "GO-2099-0001";

    /// <summary>Affects vulnerable [v1.2.0, v1.2.1), every package: so the smallest fix of 0001 is v1.2.1, not v1.2.0.</summary>
    public const string SecondAdvisory = "GO-2099-0002";

    /// <summary>Affects majorfix &lt; v1.0.0, package majorfix/codec (not imported by A): the fix changes the major version.</summary>
    public const string MajorAdvisory = "GO-2099-0003";

    /// <summary>Affects fork &lt; v1.0.1, every package (A imports fork/util through a replace of example.test/replaced).</summary>
    public const string ForkAdvisory = "GO-2099-0004";

    /// <summary>Withdrawn: never reported.</summary>
    public const string WithdrawnAdvisory = "GO-2099-0005";

    public const string RetractionRationale = "Writes corrupt files on big-endian machines.";
    public const string DeprecationMessage = "use example.test/successor instead.";

    private FakeUpstream _proxy = null!;
    private FakeUpstream _vulnDb = null!;

    public string Root { get; } = TestPaths.NewTempDir("audit-world");

    public string ProxyDir => Path.Combine(Root, "proxy");

    public string VulnDir => Path.Combine(Root, "vulndb");

    public string RepoA => Path.Combine(Root, "repos", "alpha");

    public string RepoB => Path.Combine(Root, "repos", "beta");

    /// <summary>Only a deprecated module (at its latest version).</summary>
    public string RepoC => Path.Combine(Root, "repos", "gamma");

    /// <summary>Only the retracted module, at its latest version (drifts from A and B, nothing else).</summary>
    public string RepoD => Path.Combine(Root, "repos", "delta");

    public Uri ProxyUrl => new(_proxy.Url);

    public Uri VulnDbUrl => new(_vulnDb.Url);

    public FakeUpstream Proxy => _proxy;

    public async Task InitializeAsync()
    {
        Module(Retracted, ["v1.0.0", "v1.1.0", "v1.2.0"], latestMod: $"module {Retracted}\n\ngo 1.17\n\n// {RetractionRationale}\nretract v1.1.0\n");
        Module(Deprecated, ["v1.0.0", "v1.1.0"], latestMod: $"// Deprecated: {DeprecationMessage}\nmodule {Deprecated}\n\ngo 1.17\n");
        Module(Vulnerable, ["v1.0.0", "v1.1.0", "v1.2.0", "v1.2.1", "v1.3.0", "v2.0.0-beta.1"], latestMod: null);
        Module(MajorFix, ["v0.8.0", "v0.9.0", "v1.0.0"], latestMod: null);
        Module(Fork, ["v1.0.0", "v1.0.1"], latestMod: null);

        Advisory(ParseAdvisory, Vulnerable, "0", "1.2.0", [$"{Vulnerable}/parse"], ["CVE-2099-1111", "GHSA-aaaa-bbbb-cccc"], "Parse panics on long input");
        Advisory(SecondAdvisory, Vulnerable, "1.2.0", "1.2.1", [], ["CVE-2099-2222"], "Regression in v1.2.0");
        Advisory(MajorAdvisory, MajorFix, "0", "1.0.0", [$"{MajorFix}/codec"], [], "Codec overflow");
        Advisory(ForkAdvisory, Fork, "0", "1.0.1", [], [], "Fork leaks memory");
        Advisory(WithdrawnAdvisory, Deprecated, "0", "", [], [], "Withdrawn report", withdrawn: true);
        var index = new JsonArray();
        foreach (var (module, ids) in new[]
        {
            (Vulnerable, new[] { ParseAdvisory, SecondAdvisory }), (MajorFix, [MajorAdvisory]), (Fork, [ForkAdvisory]), (Deprecated, [WithdrawnAdvisory]),
        })
        {
            index.Add(new JsonObject { ["path"] = module, ["vulns"] = new JsonArray(ids.Select(i => (JsonNode)new JsonObject { ["id"] = i, ["modified"] = "2099-01-02T00:00:00Z" }).ToArray()) });
        }

        Write(Path.Combine(VulnDir, "index", "modules.json"), index.ToJsonString());
        Write(Path.Combine(VulnDir, "index", "db.json"), """{"modified":"2099-01-02T00:00:00Z"}""");

        // Repository A: one module. It imports the vulnerable package and, through the replace, a fork's package.
        Write(Path.Combine(RepoA, "go.mod"), $$"""
            module example.test/alpha

            go 1.19

            require (
            	{{Deprecated}} v1.0.0
            	{{MajorFix}} v0.9.0
            	{{Replaced}} v1.0.0
            	{{Retracted}} v1.1.0
            	{{Vulnerable}} v1.0.0 // indirect
            	{{Local}} v0.0.0
            )

            replace {{Replaced}} => {{Fork}} v1.0.0

            replace {{Local}} => ../local
            """);
        Write(Path.Combine(RepoA, "main.go"), $"// Package main.\npackage main\n\nimport (\n\t\"fmt\"\n\n\tp \"{Vulnerable}/parse\"\n\t_ \"{Replaced}/util\"\n)\n\nfunc main() {{ fmt.Println(p.Parse) }}\n");

        // Files the scanner must not read: tests, testdata, vendor, a nested module.
        Write(Path.Combine(RepoA, "main_test.go"), $"package main\n\nimport _ \"{MajorFix}/codec\"\n");
        Write(Path.Combine(RepoA, "testdata", "x.go"), $"package x\n\nimport _ \"{MajorFix}/codec\"\n");
        Write(Path.Combine(RepoA, "vendor", "y.go"), $"package y\n\nimport _ \"{MajorFix}/codec\"\n");
        Write(Path.Combine(RepoA, "nested", "go.mod"), "module example.test/alpha/nested\n\ngo 1.19\n");
        Write(Path.Combine(RepoA, "nested", "z.go"), $"package z\n\nimport _ \"{MajorFix}/codec\"\n");

        // Repository B: a workspace of one module, at other versions.
        Write(Path.Combine(RepoB, "go.work"), "go 1.19\n\nuse (\n\t./svc\n)\n");
        Write(Path.Combine(RepoB, "svc", "go.mod"), $"module example.test/beta/svc\n\ngo 1.19\n\nrequire (\n\t{Retracted} v1.0.0\n\t{Vulnerable} v1.3.0\n)\n");
        Write(Path.Combine(RepoB, "svc", "main.go"), $"package main\n\nimport _ \"{Vulnerable}\"\n\nfunc main() {{}}\n");

        Write(Path.Combine(RepoC, "go.mod"), $"module example.test/gamma\n\ngo 1.19\n\nrequire {Deprecated} v1.1.0\n");
        Write(Path.Combine(RepoD, "go.mod"), $"module example.test/delta\n\ngo 1.19\n\nrequire {Retracted} v1.2.0\n");

        _proxy = await FakeUpstream.StartAsync(ProxyDir);
        _vulnDb = await FakeUpstream.StartAsync(VulnDir);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _vulnDb.DisposeAsync();
    }

    private void Module(string path, string[] versions, string? latestMod)
    {
        var dir = Path.Combine(ProxyDir, path, "@v");
        Write(Path.Combine(dir, "list"), string.Concat(versions.Reverse().Select(v => v + "\n")));
        foreach (var v in versions)
        {
            Write(Path.Combine(dir, v + ".info"), $"{{\"Version\":\"{v}\",\"Time\":\"2024-01-01T00:00:00Z\"}}");
            Write(Path.Combine(dir, v + ".mod"), $"module {path}\n\ngo 1.17\n");
        }

        // The go command's latest: the highest release.
        var latest = versions.Where(v => !v.Contains('-', StringComparison.Ordinal)).Last();
        if (latestMod is not null)
        {
            Write(Path.Combine(dir, latest + ".mod"), latestMod);
        }
    }

    private void Advisory(string id, string module, string introduced, string fixedVersion, string[] packages, string[] aliases, string summary, bool withdrawn = false)
    {
        var events = new JsonArray(new JsonObject { ["introduced"] = introduced });
        if (fixedVersion.Length > 0)
        {
            events.Add(new JsonObject { ["fixed"] = fixedVersion });
        }

        var affected = new JsonObject
        {
            ["package"] = new JsonObject { ["name"] = module, ["ecosystem"] = "Go" },
            ["ranges"] = new JsonArray(new JsonObject { ["type"] = "SEMVER", ["events"] = events }),
        };
        if (packages.Length > 0)
        {
            affected["ecosystem_specific"] = new JsonObject
            {
                ["imports"] = new JsonArray(packages.Select(p => (JsonNode)new JsonObject { ["path"] = p, ["symbols"] = new JsonArray("Parse") }).ToArray()),
            };
        }

        var entry = new JsonObject
        {
            ["schema_version"] = "1.3.1",
            ["id"] = id,
            ["modified"] = "2099-01-02T00:00:00Z",
            ["published"] = "2099-01-01T00:00:00Z",
            ["aliases"] = new JsonArray(aliases.Select(a => (JsonNode)a).ToArray()),
            ["summary"] = summary,
            ["details"] = summary + ".",
            ["affected"] = new JsonArray(affected),
        };
        if (withdrawn)
        {
            entry["withdrawn"] = "2099-01-03T00:00:00Z";
        }

        Write(Path.Combine(VulnDir, "ID", id + ".json"), entry.ToJsonString());
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.Replace("\r", "", StringComparison.Ordinal));
    }
}
