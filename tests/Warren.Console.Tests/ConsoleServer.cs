using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Warren.Server;
using Warren.Server.Auth;
using Warren.Server.Configuration;

namespace Warren.WebConsole.Tests;

/// <summary>A Warren with the console mounted, on 127.0.0.1 (ephemeral port), access control on (an auth file with an
/// admin and a reader whose grants leave out the private pattern), its store filled from the corpus through the proxy
/// itself (a loopback upstream serving the corpus GOPROXY tree).</summary>
public sealed class ConsoleServer : IAsyncDisposable
{
    /// <summary>The pattern the reader has no grant for (its modules come from the corpus upstream like the others).</summary>
    public const string PrivatePattern = "golang.org/x";

    /// <summary>The reader's grants (everything in the filled store but the private pattern).</summary>
    public const string ReaderGrants = "github.com,gopkg.in,rsc.io,go.uber.org";

    private readonly WebApplication _app;
    private readonly FakeUpstream _upstream;
    private readonly TestSumDb _sumDb;

    private ConsoleServer(WebApplication app, FakeUpstream upstream, TestSumDb sumDb, string authFile, string adminToken, string readerToken, IReadOnlyList<(string Module, string Version)> filled)
    {
        _app = app;
        _upstream = upstream;
        _sumDb = sumDb;
        AuthFilePath = authFile;
        AdminToken = adminToken;
        ReaderToken = readerToken;
        Filled = filled;
        Url = WarrenHost.Addresses(app).First(a => a.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/');
        Client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(Url + "/"), Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>The corpus upstream's URL (what provenance names as the source).</summary>
    public string UpstreamUrl => _upstream.Url;

    /// <summary>The name of the checksum database that verifies every stored version.</summary>
    public string SumDbName => "sum.test.example";

    /// <summary>http://127.0.0.1:PORT (no trailing slash).</summary>
    public string Url { get; }

    /// <summary>The host:port every page may load from (and nothing else).</summary>
    public string Authority => new Uri(Url).Authority;

    /// <summary>A client that follows no redirect and keeps no cookie (tests set them).</summary>
    public HttpClient Client { get; }

    public string AuthFilePath { get; }

    public string AdminToken { get; }

    public string ReaderToken { get; }

    /// <summary>The versions stored (module, version), each with its .info, .mod and .zip.</summary>
    public IReadOnlyList<(string Module, string Version)> Filled { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The store directory.</summary>
    public string Root => _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<WarrenOptions>>().Value.Root!;

    /// <summary>The checksum database's "NAME+KEY URL" (what --sumdb takes).</summary>
    public string SumDb => _sumDb.VerifierKey + " " + _sumDb.Url.TrimEnd('/');

    /// <param name="modules">Module paths of the corpus whose versions are stored (all their versions).</param>
    /// <param name="configure">More console options (e.g. a short session lifetime).</param>
    /// <param name="services">Replaces services (e.g. the TimeProvider).</param>
    /// <param name="anonymous">The --anonymous patterns.</param>
    /// <param name="options">More Warren options, set last (e.g. --vulndb, --follow; AuthFile null for a Warren without access control).</param>
    public static async Task<ConsoleServer> StartAsync(IReadOnlyCollection<string> modules, Action<ConsoleOptionsBuilder>? configure = null,
        Action<IServiceCollection>? services = null, string anonymous = "", Action<WarrenOptionsBuilder>? options = null)
    {
        var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);

        // A loopback checksum database holding the corpus's hashes: every version is verified before it is stored.
        var sumDb = await TestSumDb.StartAsync();
        sumDb.AddFiller(3);
        var wanted = new HashSet<string>(modules, StringComparer.Ordinal);
        var filled = new List<(string, string)>();
        foreach (var line in File.ReadLines(Path.Combine(TestPaths.Corpus, "corpus-manifest.tsv")))
        {
            var fields = line.Split('\t');
            if (fields.Length < 5 || line.StartsWith('#') || !wanted.Contains(fields[0]) || filled.Contains((fields[0], fields[1])))
            {
                continue;
            }

            filled.Add((fields[0], fields[1]));
            sumDb.Add(fields[0], fields[1], fields[3], fields[4]);
        }

        var authFile = Path.Combine(TestPaths.NewTempDir("auth"), "auth.json");
        var admin = AddPrincipal(authFile, "ops", "*", admin: true);
        var reader = AddPrincipal(authFile, "dev", ReaderGrants);
        var root = TestPaths.NewTempDir("store");
        var app = Build(root, upstream, sumDb, authFile, configure, services, anonymous, options);
        await app.StartAsync();

        var server = new ConsoleServer(app, upstream, sumDb, authFile, admin, reader, filled)
        {
            _peer = peerRoot => Build(peerRoot, upstream, sumDb, authFile, configure, services, anonymous, options),
        };

        // The go command's order: .info, .mod, .zip; all through the proxy, so the index records them as usual.
        await Parallel.ForEachAsync(filled, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (mv, ct) =>
        {
            foreach (var ext in new[] { ".info", ".mod", ".zip" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{mv.Item1}/@v/{mv.Item2}{ext}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                using var response = await server.Client.SendAsync(request, ct);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"filling the store: {mv.Item1}@{mv.Item2}{ext}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                }
            }
        });
        return server;
    }

    /// <summary>Starts another node configured as this one (auth file, upstream, checksum database, options such as a
    /// shared index) with a store root of its own: the second node behind a load balancer. The caller stops it.</summary>
    public async Task<WebApplication> StartPeerAsync()
    {
        var app = _peer!(TestPaths.NewTempDir("peer"));
        await app.StartAsync();
        return app;
    }

    private Func<string, WebApplication>? _peer;

    private static WebApplication Build(string root, FakeUpstream upstream, TestSumDb sumDb, string authFile, Action<ConsoleOptionsBuilder>? configure,
        Action<IServiceCollection>? services, string anonymous, Action<WarrenOptionsBuilder>? options)
    {
        var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = root;
            o.Upstream = upstream.Url;
            o.SumDb = sumDb.VerifierKey + " " + sumDb.Url.TrimEnd('/');
            o.Private = "";
            o.Direct = "direct.invalid";
            o.NoProxy = "";
            o.NoSumDb = "";
            o.Fsync = false;
            o.VulnDb = "off";
            o.AuthFile = authFile;
            o.Anonymous = anonymous;
            o.RateLimit = 0;
            options?.Invoke(o);
        }, getEnv: _ => null, services: s =>
        {
            s.AddWarrenConsole(configure);
            services?.Invoke(s);
        });
        app.MapWarrenConsole();
        return app;
    }

    /// <summary>Adds a principal with cheap Argon2 parameters (stored in the file); returns its token.</summary>
    public static string AddPrincipal(string file, string name, string grants, bool admin = false, DateTimeOffset? expires = null) =>
        AuthTokens.Create(file, name, grants.Split(',', StringSplitOptions.RemoveEmptyEntries), admin, expires, DateTimeOffset.UtcNow, memoryKiB: 1024, iterations: 1) is { Token: { } token }
            ? token
            : throw new InvalidOperationException("cannot add principal " + name);

    /// <summary>GET with a cookie header (or none); the status and body.</summary>
    public async Task<(int Status, string Body, HttpResponseMessage Response)> GetAsync(string path, string? cookie = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await Client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _upstream.DisposeAsync();
        await _sumDb.DisposeAsync();
    }
}
