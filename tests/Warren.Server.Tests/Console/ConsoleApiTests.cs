using Warren.Server.ConsoleData;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Tests.Policy;
using Warren.Server.Tests.Vuln;
using Warren.Storage;
using Warren.Tools.Bundle;

namespace Warren.Server.Tests.ConsoleApi;

/// <summary>The console's JSON API over real HTTP on a real Kestrel: advisories from a loopback vulnerability database
/// joined with held versions and download records, the policy in force and its denials, the audit trail and its
/// filter, tokens created and revoked (with the go client), the configuration with every secret redacted, the feed
/// followed and the bundle journal, the OpenAPI document; authorisation (401/403, grant filtering) and hostile input.</summary>
public sealed class ConsoleApiTests(PolicyTestModules modules) : IClassFixture<PolicyTestModules>
{
    private const string Lib = PolicyTestModules.Lib;
    private const string Other = PolicyTestModules.Other;

    /// <summary>A vulnerability database in the current layout: one advisory against each (module, fixed).</summary>
    private static string WriteVulnDb(params (string Id, string Module, string Fixed)[] advisories)
    {
        var dir = TestPaths.NewTempDir("console-vulndb");
        const string modified = "2026-11-02T00:00:00Z";
        Directory.CreateDirectory(Path.Combine(dir, "index"));
        Directory.CreateDirectory(Path.Combine(dir, "ID"));
        foreach (var (id, module, fixedIn) in advisories)
        {
            File.WriteAllText(Path.Combine(dir, "ID", id + ".json"),
                "{\"schema_version\":\"1.3.1\",\"id\":\"" + id + "\",\"modified\":\"" + modified + "\",\"published\":\"2026-11-01T00:00:00Z\"," +
                "\"aliases\":[\"CVE-" + id[3..] + "\"],\"summary\":\"A test advisory against " + module + "\",\"details\":\"A test.\"," +
                "\"affected\":[{\"package\":{\"name\":\"" + module + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"" + fixedIn[1..] + "\"}]}]}]}");
        }

        File.WriteAllText(Path.Combine(dir, "index", "db.json"), "{\"modified\":\"" + modified + "\"}");
        File.WriteAllText(Path.Combine(dir, "index", "vulns.json"),
            "[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"aliases\":[\"CVE-" + a.Id[3..] + "\"]}")) + "]");
        File.WriteAllText(Path.Combine(dir, "index", "modules.json"),
            "[" + string.Join(',', advisories.Select(a => "{\"path\":\"" + a.Module + "\",\"vulns\":[{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"fixed\":\"" + a.Fixed[1..] + "\"}]}")) + "]");
        return dir;
    }

    private static async Task<int> StatusAsync(HttpClient http, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = AuthTestFiles.Bearer(token);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private static async Task<JsonElement> PollAsync(ConsoleApiClient api, string path, string token, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var json = await api.JsonAsync(path, token);
            if (done(json))
            {
                return json;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what + ": " + json);
            await Task.Delay(100);
        }
    }

    private static List<(string Module, string Version)> Versions(JsonElement advisories) =>
        advisories.GetProperty("versions").EnumerateArray().Select(v => (v.GetProperty("module").GetString()!, v.GetProperty("version").GetString()!)).ToList();

    [Fact]
    public async Task Advisories_policy_and_audit_show_what_each_token_may_read_and_refuse_bad_input_with_one_line()
    {
        var db = await VulnDbUpstream.StartAsync(WriteVulnDb(("GO-2099-0201", Lib, "v1.2.0"), ("GO-2099-0202", Other, "v0.2.0")));
        await using var dbStop = db;
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", Lib);
        var bob = AuthTestFiles.Add(file, "bob", Other);
        var root = AuthTestFiles.Add(file, "root", "", admin: true);
        var policy = Path.Combine(TestPaths.NewTempDir("console-policy"), "policy.json");
        await File.WriteAllTextAsync(policy, """{ "deny": [ { "module": "example.com/pol/lib", "versions": "v1.3.0", "reason": "console test: v1.3.0 is broken" } ] }""");
        await using var warren = await WarrenInstance.StartAsync(modules.Upstream.Url, o =>
        {
            o.AuthFile = file;
            o.VulnDb = db.Url;
            o.PolicyFile = policy;
        });
        using var api = new ConsoleApiClient(warren.Url);
        await PollAsync(api, "api/advisories", root, j => j.GetProperty("databaseAvailable").GetBoolean(), "the vulnerability database");

        // alice downloads an affected version and reads another's .info (held, not downloaded), and is denied v1.3.0
        // by policy; bob downloads an affected version of his module and is refused alice's.
        Assert.Equal(200, await StatusAsync(warren.Client, $"{Lib}/@v/v1.0.0.zip", alice));
        Assert.Equal(200, await StatusAsync(warren.Client, $"{Lib}/@v/v1.1.0.info", alice));
        Assert.Equal(403, await StatusAsync(warren.Client, $"{Lib}/@v/v1.3.0.zip", alice));
        Assert.Equal(200, await StatusAsync(warren.Client, $"{Other}/@v/v0.1.0.zip", bob));
        Assert.Equal(403, await StatusAsync(warren.Client, $"{Lib}/@v/v1.0.0.zip", bob));

        // Advisories: alice sees only her module's affected versions, with who downloaded them; bob only his; the admin all.
        var forAlice = await api.JsonAsync("api/advisories?since=30d", alice);
        Assert.Equal([(Lib, "v1.0.0"), (Lib, "v1.1.0")], Versions(forAlice));
        var served = forAlice.GetProperty("versions")[0];
        Assert.True(served.GetProperty("held").GetBoolean() && served.GetProperty("served").GetBoolean());
        Assert.Equal("GO-2099-0201", served.GetProperty("advisories")[0].GetProperty("id").GetString());
        Assert.Equal("v1.2.0", served.GetProperty("advisories")[0].GetProperty("fixed").GetString());
        var client = Assert.Single(served.GetProperty("clients").EnumerateArray());
        Assert.Equal(("alice", 1), (client.GetProperty("client").GetString(), client.GetProperty("downloads").GetInt32()));
        var held = forAlice.GetProperty("versions")[1];
        Assert.True(held.GetProperty("held").GetBoolean());
        Assert.False(held.GetProperty("served").GetBoolean());
        Assert.Empty(held.GetProperty("clients").EnumerateArray());
        Assert.DoesNotContain(Other, forAlice.ToString(), StringComparison.Ordinal);
        var forBob = await api.JsonAsync("api/advisories", bob);
        Assert.Equal([(Other, "v0.1.0")], Versions(forBob));
        Assert.DoesNotContain(Lib, forBob.ToString(), StringComparison.Ordinal);
        Assert.Equal([(Lib, "v1.0.0"), (Lib, "v1.1.0"), (Other, "v0.1.0")], Versions(await api.JsonAsync("api/advisories", root)));
        ConsoleApiClient.AssertOneLine(401, await api.GetAsync("api/advisories", null));
        ConsoleApiClient.AssertOneLine(401, await api.GetAsync("api/advisories", "wrn_0000000000000000_nottoken"));

        // Policy: the rules in force, when loaded, and the denial with its reason — not shown to bob, who may not read lib.
        var policyForAlice = await api.JsonAsync("api/policy", alice);
        Assert.True(policyForAlice.GetProperty("configured").GetBoolean());
        Assert.Equal(policy, policyForAlice.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.String, policyForAlice.GetProperty("loadedAt").ValueKind);
        var rule = Assert.Single(policyForAlice.GetProperty("deny").EnumerateArray());
        Assert.Equal((Lib, "v1.3.0", "console test: v1.3.0 is broken"), (rule.GetProperty("module").GetString(), rule.GetProperty("versions").GetString(), rule.GetProperty("reason").GetString()));
        var denial = Assert.Single(policyForAlice.GetProperty("recentDenials").EnumerateArray());
        Assert.Equal(("alice", Lib, "v1.3.0", "deny"), (denial.GetProperty("principal").GetString(), denial.GetProperty("module").GetString(),
            denial.GetProperty("version").GetString(), denial.GetProperty("rule").GetString()));
        Assert.Contains("console test: v1.3.0 is broken", denial.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty((await api.JsonAsync("api/policy", bob)).GetProperty("recentDenials").EnumerateArray());

        // Audit: admins only; filtered by kind, principal, module, time.
        ConsoleApiClient.AssertOneLine(403, await api.GetAsync("api/admin/audit", alice), "not an admin token");
        ConsoleApiClient.AssertOneLine(401, await api.GetAsync("api/admin/audit", null));
        var policyEvents = (await api.JsonAsync("api/admin/audit?kind=policy", root)).GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(policyEvents, e => e.GetProperty("action").GetString() == "zip-denied" && e.GetProperty("principal").GetString() == "alice"
            && e.GetProperty("version").GetString() == "v1.3.0" && e.GetProperty("status").GetInt32() == 403);
        Assert.All(policyEvents, e => Assert.Equal("policy", e.GetProperty("kind").GetString()));
        var bobs = (await api.JsonAsync("api/admin/audit?principal=bob", root)).GetProperty("events").EnumerateArray().ToList();
        Assert.All(bobs, e => Assert.Equal("bob", e.GetProperty("principal").GetString()));
        Assert.Contains(bobs, e => e.GetProperty("kind").GetString() == "access" && e.GetProperty("action").GetString() == "denied"
            && e.GetProperty("module").GetString() == Lib && e.GetProperty("status").GetInt32() == 403);
        var onOther = (await api.JsonAsync($"api/admin/audit?module={Other}&kind=access", root)).GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(onOther, e => e.GetProperty("action").GetString() == "served-private" && e.GetProperty("principal").GetString() == "bob");
        Assert.All(onOther, e => Assert.Equal(Other, e.GetProperty("module").GetString()));
        Assert.Empty((await api.JsonAsync("api/admin/audit?since=2099-01-01T00:00:00Z", root)).GetProperty("events").EnumerateArray());
        Assert.Single((await api.JsonAsync("api/admin/audit?kind=policy&principal=alice&limit=1", root)).GetProperty("events").EnumerateArray());

        // Hostile and malformed parameters: 400 with one line, never a 500.
        foreach (var path in new[]
                 {
                     "api/advisories?since=soon", "api/advisories?since=90d&since=1d", "api/advisories?since=%FF%FE", "api/admin/audit?kind=nope",
                     "api/admin/audit?limit=0", "api/admin/audit?limit=99999999999999", "api/admin/audit?since=last%20tuesday", "api/admin/audit?bogus=1",
                     "api/admin/audit?module=%00evil", "api/admin/audit?principal=" + new string('a', 600), "api/admin/audit?kind=policy&kind=access",
                 })
        {
            ConsoleApiClient.AssertOneLine(400, await api.GetAsync(path, root));
        }
    }

    [Fact]
    public async Task A_token_created_through_the_api_works_with_the_go_client_and_once_revoked_gets_401_at_once()
    {
        var file = AuthTestFiles.NewFile();
        var root = AuthTestFiles.Add(file, "root", "", admin: true);
        var alice = AuthTestFiles.Add(file, "alice", Lib);
        await using var tls = await TlsWarren.StartAsync(modules.Upstream.Url, o => o.AuthFile = file);
        var warren = tls.Warren;
        using var api = new ConsoleApiClient(warren.Url);

        // Only admins; bad requests are refused with one line and change nothing.
        ConsoleApiClient.AssertOneLine(403, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", alice, """{"name":"ci","grants":["example.com/pol/*"]}"""));
        ConsoleApiClient.AssertOneLine(401, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", null, """{"name":"ci","grants":["example.com/pol/*"]}"""));
        foreach (var (body, status) in new[]
                 {
                     ("{not json", 400), ("""{"name":"anonymous","grants":["x.com"]}""", 400), ("""{"name":"a b","grants":["x.com"]}""", 400),
                     ("""{"name":"ci"}""", 400), ("""{"name":"ci","grants":["a,b"]}""", 400), ("""{"name":"ci","grants":["[z"]}""", 400),
                     ("""{"name":"ci","grants":["x.com"],"expires":"2001-01-01"}""", 400), ("""{"name":"ci","grants":["x.com"],"expires":"soon"}""", 400),
                     ("""{"name":"alice","grants":["x.com"]}""", 409), ("null", 400), ("[1,2]", 400), ("""{"name":"ci","grants":"x.com"}""", 400),
                 })
        {
            ConsoleApiClient.AssertOneLine(status, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", root, body));
        }

        ConsoleApiClient.AssertOneLine(415, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", root, """{"name":"ci","grants":["x.com"]}""", "text/plain"));
        ConsoleApiClient.AssertOneLine(413, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", root, "{\"name\":\"" + new string('x', 20_000) + "\"}"));
        Assert.Equal(["alice", "root"], (await api.JsonAsync("api/admin/tokens", root)).GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("name").GetString()));

        // Created: the token is in the answer once, the list shows the principal without it (or its hash).
        var (created, createdBody) = await api.SendAsync(HttpMethod.Post, "api/admin/tokens", root, """{"name":"ci","grants":["example.com/pol/*"],"expires":"30d"}""");
        Assert.True(created == 201, createdBody);
        var answer = JsonDocument.Parse(createdBody).RootElement;
        var token = answer.GetProperty("token").GetString()!;
        Assert.StartsWith("wrn_", token, StringComparison.Ordinal);
        Assert.Equal(["example.com/pol/*"], answer.GetProperty("principal").GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
        var list = await api.JsonAsync("api/admin/tokens", root);
        var ci = list.GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "ci");
        Assert.False(ci.GetProperty("admin").GetBoolean());
        Assert.Equal(JsonValueKind.String, ci.GetProperty("expires").ValueKind);
        Assert.Equal(JsonValueKind.String, ci.GetProperty("created").ValueKind);
        Assert.DoesNotContain(token, list.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("salt", list.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hash", list.ToString(), StringComparison.OrdinalIgnoreCase);

        // The new token works for the go client at once.
        var work = PolicyTestModules.WorkDir();
        var go = tls.Go(token);
        var download = await go.RunAsync(work, "mod", "download", "-json", $"{Lib}@v1.0.0");
        Assert.True(download.ExitCode == 0, download.ToString());

        // Revoked (a non-admin cannot; an unknown name is 404): the very next request with it is refused.
        ConsoleApiClient.AssertOneLine(403, await api.SendAsync(HttpMethod.Delete, "api/admin/tokens/ci", alice));
        ConsoleApiClient.AssertOneLine(404, await api.SendAsync(HttpMethod.Delete, "api/admin/tokens/nobody", root));
        ConsoleApiClient.AssertOneLine(400, await api.SendAsync(HttpMethod.Post, "api/admin/tokens/a%20b/revoke", root));
        Assert.Equal(204, (await api.SendAsync(HttpMethod.Delete, "api/admin/tokens/ci", root)).Status);
        ConsoleApiClient.AssertOneLine(401, await api.GetAsync("api/policy", token), "unknown or revoked token");
        var refused = await go.RunAsync(work, "mod", "download", "-json", $"{Lib}@v1.2.0");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("401", refused.Stdout + refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(["alice", "root"], (await api.JsonAsync("api/admin/tokens", root)).GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("name").GetString()));

        // Both changes are in the audit trail, with who made them.
        var changes = (await api.JsonAsync("api/admin/audit?kind=token", root)).GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("principal").GetString(), e.GetProperty("action").GetString())).ToList();
        Assert.Equal([("root", "revoked"), ("root", "created")], changes);

        // A change made to the file by someone else (warren token, an editor) is a token event too.
        AuthTestFiles.Add(file, "bob", Lib);
        await PollAsync(api, "api/admin/audit?kind=token&principal=auth-file", root, j => j.GetProperty("events").EnumerateArray()
            .Any(e => e.GetProperty("action").GetString() == "created" && e.GetProperty("reason").GetString()!.Contains("\"bob\"", StringComparison.Ordinal)), "the auth file change");
        Assert.Equal(3, (await api.JsonAsync("api/admin/audit?kind=token", root)).GetProperty("events").GetArrayLength());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task The_configuration_hides_every_secret_and_the_openapi_document_lists_the_api_and_not_the_proxy()
    {
        var file = AuthTestFiles.NewFile();
        var root = AuthTestFiles.Add(file, "root", "", admin: true);
        var alice = AuthTestFiles.Add(file, "alice", Lib);
        var upstream = new UriBuilder(modules.Upstream.Url) { UserName = "warrenuser", Password = "UpstreamS3cretPass" }.Uri.ToString().TrimEnd('/');
        await using var warren = await WarrenInstance.StartAsync(upstream, o =>
        {
            o.AuthFile = file;
            o.UpstreamCredentialsOverHttp = true;
            o.GitCredentials["git.example.test"] = "gituser:GitS3cretValue";
            o.AlertWebhook = "http://127.0.0.1:9/hook?token=HookS3cretValue";
        });
        using var api = new ConsoleApiClient(warren.Url);

        ConsoleApiClient.AssertOneLine(403, await api.GetAsync("api/admin/config", alice));
        var (status, config) = await api.GetAsync("api/admin/config", root);
        Assert.True(status == 200, config);
        var options = JsonDocument.Parse(config).RootElement.GetProperty("options");
        Assert.Equal(warren.Root, options.GetProperty("root").GetString());
        Assert.Contains("127.0.0.1", options.GetProperty("upstream").GetString(), StringComparison.Ordinal);
        Assert.Equal("***", options.GetProperty("gitCredentials").GetProperty("git.example.test").GetString());
        foreach (var secret in new[] { "UpstreamS3cretPass", "GitS3cretValue", "HookS3cretValue", root, alice })
        {
            Assert.DoesNotContain(secret, config, StringComparison.Ordinal);
        }

        // Nothing of the auth file's contents: ids, salts, hashes.
        var auth = Server.Auth.AuthFile.Load(file);
        foreach (var p in auth.Principals)
        {
            Assert.DoesNotContain(p.Id, config, StringComparison.Ordinal);
            Assert.DoesNotContain(p.Hash.Salt, config, StringComparison.Ordinal);
            Assert.DoesNotContain(p.Hash.Value, config, StringComparison.Ordinal);
        }

        // The OpenAPI document: any valid token; every /api/ endpoint, none of the proxy's routes.
        ConsoleApiClient.AssertOneLine(401, await api.GetAsync("openapi/v1.json", null));
        var document = await api.JsonAsync("openapi/v1.json", alice);
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        foreach (var expected in new[] { "/api/advisories", "/api/policy", "/api/sync", "/api/admin/tokens", "/api/admin/tokens/{name}", "/api/admin/tokens/{name}/revoke", "/api/admin/audit", "/api/admin/config" })
        {
            Assert.Contains(expected, paths);
        }

        Assert.All(paths, p => Assert.StartsWith("/api/", p, StringComparison.Ordinal));
        var create = document.GetProperty("paths").GetProperty("/api/admin/tokens").GetProperty("post");
        Assert.True(create.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(document.GetProperty("paths").GetProperty("/api/admin/tokens/{name}").TryGetProperty("delete", out _));
        Assert.Contains("Admin", document.GetProperty("paths").GetProperty("/api/admin/config").GetProperty("get").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Without_an_auth_file_everything_is_readable_but_changes_still_need_the_authorization_header()
    {
        await using var warren = await WarrenInstance.StartAsync(modules.Upstream.Url);
        using var api = new ConsoleApiClient(warren.Url);
        var document = await api.JsonAsync("openapi/v1.json", null);
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/policy", out _));
        Assert.False((await api.JsonAsync("api/admin/tokens", null)).GetProperty("enabled").GetBoolean());
        Assert.False((await api.JsonAsync("api/policy", null)).GetProperty("configured").GetBoolean());
        ConsoleApiClient.AssertOneLine(403, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", null, """{"name":"ci","grants":["x.com"]}"""), "Authorization header");
        ConsoleApiClient.AssertOneLine(403, await api.SendAsync(HttpMethod.Delete, "api/admin/tokens/ci", null), "Authorization header");
        ConsoleApiClient.AssertOneLine(409, await api.SendAsync(HttpMethod.Post, "api/admin/tokens", "anything", """{"name":"ci","grants":["x.com"]}"""), "no auth file");
    }

    [Fact]
    public async Task The_endpoints_decide_access_themselves_too_whatever_the_middleware_let_through()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", Lib);
        var root = AuthTestFiles.Add(file, "root", "", admin: true);
        var options = Microsoft.Extensions.Options.Options.Create(new Configuration.WarrenOptions { AuthFile = file, Anonymous = "example.com/public/*", AuthorizeByOrigin = "example.com/origin/*" });
        using var store = new Server.Auth.AuthStore(options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Server.Auth.AuthStore>.Instance);
        var rules = new Server.ConsoleData.ConsoleAccessRules(store, options);
        async Task<Microsoft.AspNetCore.Http.HttpContext> ContextAsync(string? token)
        {
            var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            if (token is not null)
            {
                context.Items[Server.Auth.AccessControl.AuthPrincipalItem] = (await store.AuthenticateAsync(token, CancellationToken.None)).Principal;
            }

            return context;
        }

        var anonymous = await ContextAsync(null);
        Assert.True(rules.Refusal(anonymous, admin: true)?.NoCredential); // 401
        Assert.Null(rules.Refusal(anonymous, admin: false)); // something is anonymous: the public views are open
        Assert.True(rules.Readable(anonymous)("example.com/public/x"));
        Assert.False(rules.Readable(anonymous)(Lib));
        var forAlice = await ContextAsync(alice);
        Assert.False(rules.Refusal(forAlice, admin: true)?.NoCredential); // 403: a credential, not an admin one
        Assert.True(rules.Readable(forAlice)(Lib));
        Assert.False(rules.Readable(forAlice)(Other));
        var forRoot = await ContextAsync(root);
        Assert.Null(rules.Refusal(forRoot, admin: true));
        Assert.True(rules.Readable(forRoot)(Other));

        // Paths only the origin's own permissions open are never shown, not even to an admin; and the rule is the one
        // the pages' viewer uses.
        Assert.False(rules.Readable(forRoot)("example.com/origin/x"));
        Assert.False(rules.Readable(forAlice)("example.com/origin/x"));
        var rule = Server.Auth.ConsoleViewer.ReadRule(true, Core.Modules.GlobList.Parse("example.com/public/*"), Core.Modules.GlobList.Parse("example.com/origin/*"),
            (await store.AuthenticateAsync(alice, CancellationToken.None)).Principal);
        Assert.All(new[] { Lib, Other, "example.com/public/x", "example.com/origin/x" }, m => Assert.Equal(rules.Readable(forAlice)(m), rule(m)));
    }

    [Fact]
    public async Task Sync_shows_the_feed_followed_with_its_cursor_and_failures_and_the_bundles_imported()
    {
        // The core holds lib and other; the follower's own upstream has only lib, so following other fails.
        await using var core = await WarrenInstance.StartAsync(modules.Upstream.Url);
        foreach (var path in new[] { $"{Lib}/@v/v1.0.0.zip", $"{Other}/@v/v0.1.0.zip" })
        {
            using var fetched = await core.Client.GetAsync(path);
            Assert.True(fetched.IsSuccessStatusCode, path);
        }

        var libOnly = TestPaths.NewTempDir("console-lib-only");
        foreach (var source in Directory.EnumerateFiles(Path.Combine(modules.Root, Lib), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(libOnly, Path.GetRelativePath(modules.Root, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }

        await using var libUpstream = await FakeUpstream.StartAsync(libOnly);
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", Lib);
        var bob = AuthTestFiles.Add(file, "bob", Other);
        var ops = AuthTestFiles.Add(file, "ops", "*", admin: true);
        await using var follower = await WarrenInstance.StartAsync(libUpstream.Url, o =>
        {
            o.AuthFile = file;
            o.Follow = core.Url + "/index";
            o.FollowPatterns = "example.com/pol/*";
            o.FollowInterval = TimeSpan.FromSeconds(1);
        });
        using var api = new ConsoleApiClient(follower.Url);

        // A refused import into the follower's store is journaled by the importer; the server shows it.
        var broken = TestPaths.NewTempDir("console-broken-bundle");
        var staging = follower.Services.GetRequiredService<Storage.StagingArea>();
        var imported = await new BundleImporter(new ImportOptions(broken, follower.Services.GetRequiredService<IArtifactStore>(), null, staging.NewFile,
            Journal: BundleJournal.PathUnder(follower.Root))).RunAsync(CancellationToken.None);
        Assert.Equal(1, imported.Refused);

        var sync = await PollAsync(api, "api/sync", ops, j => j.GetProperty("feeds")[0].GetProperty("lastPoll").ValueKind == JsonValueKind.String
            && j.GetProperty("feeds")[0].GetProperty("failedVersions").GetInt32() > 0, "a pass over the feed with a failure");
        var followed = sync.GetProperty("feeds")[0];
        Assert.Equal(core.Url + "/index", followed.GetProperty("feed").GetString());
        Assert.Equal("example.com/pol/*", followed.GetProperty("patterns").GetString());
        Assert.Equal(1, followed.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal(JsonValueKind.String, followed.GetProperty("cursor").ValueKind);
        Assert.Equal(1, followed.GetProperty("failedVersions").GetInt32());
        // The failed version keeps the follower behind: the lag is its age, not zero.
        Assert.True(followed.GetProperty("lagSeconds").GetDouble() > 0, followed.ToString());
        Assert.StartsWith(Other + "@v0.1.0: ", followed.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        var bundle = Assert.Single(sync.GetProperty("bundles").EnumerateArray());
        Assert.Equal(("import", broken, false), (bundle.GetProperty("kind").GetString(), bundle.GetProperty("source").GetString(), bundle.GetProperty("succeeded").GetBoolean()));
        Assert.Contains("warren-bundle.json", bundle.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // alice may not read other: its failure is not named to her. Neither she nor bob (who may read it) is an admin:
        // both see the feed by number, no patterns, no error text, the bundle by file name; the numbers are the same.
        var forAlice = await api.JsonAsync("api/sync", alice);
        Assert.DoesNotContain(Other, forAlice.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, forAlice.GetProperty("feeds")[0].GetProperty("failedVersions").GetInt32());
        var forBob = await api.JsonAsync("api/sync", bob);
        foreach (var view in new[] { forAlice, forBob })
        {
            var feed = view.GetProperty("feeds")[0];
            Assert.Equal("feed 1", feed.GetProperty("feed").GetString());
            Assert.Equal(ConsoleSyncView.HiddenDetail, feed.GetProperty("patterns").GetString());
            Assert.Equal(ConsoleSyncView.FailingDetail, feed.GetProperty("lastError").GetString());
            Assert.Equal(1, feed.GetProperty("failedVersions").GetInt32());
            var entry = Assert.Single(view.GetProperty("bundles").EnumerateArray());
            Assert.Equal(Path.GetFileName(broken), entry.GetProperty("source").GetString());
            Assert.Equal(ConsoleSyncView.HiddenDetail, entry.GetProperty("detail").GetString());
            Assert.DoesNotContain(core.Url, view.ToString(), StringComparison.Ordinal);
        }
    }
}
