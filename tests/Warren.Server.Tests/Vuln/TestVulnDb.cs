using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;

namespace Warren.Server.Tests.Vuln;

/// <summary>A vulnerability database in the current layout written by the test: one advisory against
/// github.com/dustin/go-humanize (symbol Bytes, which the corpus program validate/closed calls), fixed in v1.0.1.</summary>
internal static class TestVulnDb
{
    public const string Id = "GO-2099-0001";
    public const string Module = "github.com/dustin/go-humanize";

    public static string Entry(string modified = "2026-01-02T00:00:00Z") =>
        "{\"schema_version\":\"1.3.1\",\"id\":\"" + Id + "\",\"modified\":\"" + modified + "\",\"published\":\"2026-01-01T00:00:00Z\"," +
        "\"aliases\":[\"CVE-2099-0001\",\"GHSA-aaaa-bbbb-cccc\"],\"summary\":\"Bytes misbehaves (test advisory)\",\"details\":\"Bytes is vulnerable in a test.\"," +
        "\"affected\":[{\"package\":{\"name\":\"" + Module + "\",\"ecosystem\":\"Go\"},\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.0.1\"}]}]," +
        "\"ecosystem_specific\":{\"imports\":[{\"path\":\"" + Module + "\",\"symbols\":[\"Bytes\"]}]}}]," +
        "\"database_specific\":{\"url\":\"https://pkg.go.dev/vuln/" + Id + "\"}}";

    /// <summary>Writes the database into a new directory; returns it.</summary>
    public static string Write(string? dir = null, string modified = "2026-01-02T00:00:00Z")
    {
        dir ??= TestPaths.NewTempDir("vulndb");
        Directory.CreateDirectory(Path.Combine(dir, "index"));
        Directory.CreateDirectory(Path.Combine(dir, "ID"));
        File.WriteAllText(Path.Combine(dir, "ID", Id + ".json"), Entry(modified));
        File.WriteAllText(Path.Combine(dir, "index", "db.json"), "{\"modified\":\"" + modified + "\"}");
        File.WriteAllText(Path.Combine(dir, "index", "vulns.json"), "[{\"id\":\"" + Id + "\",\"modified\":\"" + modified + "\",\"aliases\":[\"CVE-2099-0001\"]}]");
        File.WriteAllText(Path.Combine(dir, "index", "modules.json"),
            "[{\"path\":\"" + Module + "\",\"vulns\":[{\"id\":\"" + Id + "\",\"modified\":\"" + modified + "\",\"fixed\":\"1.0.1\"}]}]");
        return dir;
    }
}

/// <summary>A loopback server of a database directory that answers conditional requests (ETag) and counts them.</summary>
internal sealed class VulnDbUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private VulnDbUpstream(WebApplication app, string url, ConcurrentBag<(string Path, int Status)> log)
    {
        _app = app;
        Url = url;
        Log = log;
    }

    public string Url { get; }

    public ConcurrentBag<(string Path, int Status)> Log { get; }

    public int Count(int status) => Log.Count(l => l.Status == status);

    public static async Task<VulnDbUpstream> StartAsync(string dir)
    {
        var log = new ConcurrentBag<(string, int)>();
        var (app, url) = await LoopbackApp.StartAsync(async context =>
        {
            var path = context.Request.Path.Value!.TrimStart('/');
            var file = new FileInfo(Path.Combine(dir, path));
            if (path.Contains("..", StringComparison.Ordinal) || !file.Exists)
            {
                context.Response.StatusCode = 404;
                log.Add((path, 404));
                return;
            }

            var tag = "\"" + file.LastWriteTimeUtc.Ticks + "-" + file.Length + "\"";
            if (context.Request.Headers.IfNoneMatch.ToString() == tag)
            {
                context.Response.StatusCode = 304;
                log.Add((path, 304));
                return;
            }

            context.Response.Headers.ETag = tag;
            context.Response.ContentType = "application/json";
            log.Add((path, 200));
            await context.Response.Body.WriteAsync(await File.ReadAllBytesAsync(file.FullName));
        });
        return new VulnDbUpstream(app, url, log);
    }

    public async ValueTask DisposeAsync() => await LoopbackApp.StopAsync(_app);
}
