using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Warren.Protocol.SumDb;
using Warren.Server.Storage;
using Warren.Storage;
using Warren.Tools.Bundle;

namespace Warren.WebConsole.Tests;

/// <summary>A console Warren with data on its advisories and sync pages: a loopback vulnerability database (advisories
/// on versions it holds, on a version it does not hold, on a module the reader has no grant for), a client's download,
/// a feed followed from a second loopback Warren (the core) in which one version cannot be verified here, and two
/// bundle imports in its journal (one stored, one refused).</summary>
public sealed class DataFixture : ConsoleFixture
{
    /// <summary>Affects every github.com/pkg/errors version held (fixed in v0.9.2).</summary>
    public const string HeldAdvisory = "GO-2099-0101";

    /// <summary>Affects only github.com/pkg/errors v0.9.5, which is not held.</summary>
    public const string NotHeldAdvisory = "GO-2099-0102";

    /// <summary>Affects golang.org/x/text versions held (the reader has no grant for golang.org/x).</summary>
    public const string PrivateAdvisory = "GO-2099-0103";

    /// <summary>Affects a module nobody holds.</summary>
    public const string ElsewhereAdvisory = "GO-2099-0104";

    /// <summary>Held by the core only: this Warren's checksum database has no record of it, so following it fails.</summary>
    public const string Unverifiable = "golang.org/x/time";

    /// <summary>What the follower follows of the core's feed (go-cmp, carried by a bundle instead, is left out).</summary>
    public const string FollowPatterns = "github.com/pkg/*,golang.org/x/*";

    /// <summary>The bundle carried in (and stored): a version the follower did not hold.</summary>
    public const string Bundled = "github.com/google/go-cmp";

    public const string BundledVersion = "v0.5.9";

    private FakeUpstream? _vulnDb;
    private ConsoleServer? _core;

    public static readonly string[] FollowerModules = ["github.com/pkg/errors", "github.com/pkg/sftp", "golang.org/x/text"];

    public ConsoleServer Core => _core ?? throw new InvalidOperationException("not started");

    /// <summary>The feed URL followed.</summary>
    public string Feed => Core.Url + "/index";

    /// <summary>The bundle imported successfully, and one refused (an empty directory).</summary>
    public string BundlePath { get; private set; } = "";

    public string BrokenBundlePath { get; private set; } = "";

    public ImportResult Imported { get; private set; } = null!;

    protected override async Task<ConsoleServer> StartServerAsync()
    {
        _vulnDb = await FakeUpstream.StartAsync(WriteVulnDb(
            (HeldAdvisory, "github.com/pkg/errors", "0", "0.9.2"),
            (NotHeldAdvisory, "github.com/pkg/errors", "0.9.5", "0.9.6"),
            (PrivateAdvisory, "golang.org/x/text", "0", "0.3.8"),
            (ElsewhereAdvisory, "example.com/nobody/holds", "0", "1.0.0")));

        // The core: no access control, so its feed and modules are open to the follower.
        _core = await ConsoleServer.StartAsync(["github.com/pkg/errors", Unverifiable, Bundled], options: o => o.AuthFile = null);
        var server = await ConsoleServer.StartAsync(FollowerModules, options: o =>
        {
            o.VulnDb = _vulnDb.Url;
            o.Follow = Feed;
            o.FollowPatterns = FollowPatterns;
            o.FollowInterval = TimeSpan.FromMilliseconds(500);
        });
        try
        {
            await PrepareAsync(server);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task PrepareAsync(ConsoleServer server)
    {
        // A client (the reader) downloads an affected version: the advisory names it.
        await DownloadAsync(server, "github.com/pkg/errors", "v0.9.1", server.ReaderToken);

        // A bundle of the core's go-cmp version, exported as `warren export --record-in` does and imported into the
        // running follower's store as warren import does (both journaled there), and a refused one.
        BundlePath = Path.Combine(TestPaths.NewTempDir("bundle"), "bundle");
        var sumDb = SumDbConfig.TryParse(Core.SumDb, out var problem) ?? throw new InvalidOperationException("sumdb: " + problem);
        var journal = BundleJournal.PathUnder(server.Root);
        var exported = await new BundleExporter(new ExportOptions([Bundled + "@" + BundledVersion], Core.Url, sumDb, BundlePath, Jobs: 2, Journal: journal))
            .RunAsync(CancellationToken.None);
        if (exported.Manifest is null)
        {
            throw new InvalidOperationException("export failed: " + JsonSerializer.Serialize(exported.Report));
        }

        var staging = server.Services.GetRequiredService<StagingArea>();
        Imported = await new BundleImporter(new ImportOptions(BundlePath, server.Services.GetRequiredService<IArtifactStore>(),
            server.Services.GetRequiredService<IModuleIndex>(), staging.NewFile, Journal: journal)).RunAsync(CancellationToken.None);
        BrokenBundlePath = TestPaths.NewTempDir("broken-bundle");
        await new BundleImporter(new ImportOptions(BrokenBundlePath, server.Services.GetRequiredService<IArtifactStore>(), null, staging.NewFile,
            Journal: journal)).RunAsync(CancellationToken.None);

        // Ready: the database is read, and a pass over the feed has met its failure.
        await PollJsonAsync(server, "/api/advisories", j => j.GetProperty("databaseAvailable").GetBoolean(), "the vulnerability database");
        await PollJsonAsync(server, "/api/sync", j => j.GetProperty("feeds")[0].GetProperty("lastPoll").ValueKind == JsonValueKind.String
            && j.GetProperty("feeds")[0].GetProperty("failedVersions").GetInt32() > 0, "a pass over the feed with its failure");
    }

    /// <summary>GET a version's .info, .mod and .zip with a token (as the go command does).</summary>
    public static async Task DownloadAsync(ConsoleServer server, string module, string version, string token)
    {
        foreach (var ext in new[] { ".info", ".mod", ".zip" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{module}/@v/{version}{ext}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await server.Client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{module}@{version}{ext}: {(int)response.StatusCode}");
            }
        }
    }

    /// <summary>GET a console API as the admin until done says so (at most 60 s).</summary>
    public static async Task<JsonElement> PollJsonAsync(ConsoleServer server, string path, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (status, body, _) = await server.GetAsync(path, bearer: server.AdminToken);
            if (status == 200)
            {
                var json = JsonDocument.Parse(body).RootElement.Clone();
                if (done(json))
                {
                    return json;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}: {status} {body}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A vulnerability database in the current layout (index/db.json, index/modules.json, index/vulns.json,
    /// ID/ID.json): one advisory per (id, module, introduced, fixed).</summary>
    private static string WriteVulnDb(params (string Id, string Module, string Introduced, string Fixed)[] advisories)
    {
        var dir = TestPaths.NewTempDir("vulndb");
        const string modified = "2026-11-02T00:00:00Z";
        Directory.CreateDirectory(Path.Combine(dir, "index"));
        Directory.CreateDirectory(Path.Combine(dir, "ID"));
        foreach (var (id, module, introduced, fixedIn) in advisories)
        {
            File.WriteAllText(Path.Combine(dir, "ID", id + ".json"),
                "{\"schema_version\":\"1.3.1\",\"id\":\"" + id + "\",\"modified\":\"" + modified + "\",\"published\":\"2026-11-01T00:00:00Z\"," +
                "\"aliases\":[\"CVE-" + id[3..] + "\"],\"summary\":\"Test advisory " + id + "\",\"details\":\"A test.\"," +
                "\"affected\":[{\"package\":{\"name\":\"" + module + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"" + introduced + "\"},{\"fixed\":\"" + fixedIn + "\"}]}]}]}");
        }

        File.WriteAllText(Path.Combine(dir, "index", "db.json"), "{\"modified\":\"" + modified + "\"}");
        File.WriteAllText(Path.Combine(dir, "index", "vulns.json"),
            "[" + string.Join(',', advisories.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"aliases\":[\"CVE-" + a.Id[3..] + "\"]}")) + "]");
        File.WriteAllText(Path.Combine(dir, "index", "modules.json"),
            "[" + string.Join(',', advisories.GroupBy(a => a.Module).Select(g => "{\"path\":\"" + g.Key + "\",\"vulns\":[" +
                string.Join(',', g.Select(a => "{\"id\":\"" + a.Id + "\",\"modified\":\"" + modified + "\",\"fixed\":\"" + a.Fixed + "\"}")) + "]}")) + "]");
        return dir;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_core is not null)
        {
            await _core.DisposeAsync();
        }

        if (_vulnDb is not null)
        {
            await _vulnDb.DisposeAsync();
        }
    }
}
