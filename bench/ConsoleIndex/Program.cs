// Usage: ConsoleIndex STORE_ROOT MODULES VERSIONS
//
// Writes MODULES synthetic modules with VERSIONS versions in all (each version an .info, a .mod and a .zip record, a
// feed entry, usage, a few days of download counts and a verification record) into STORE_ROOT/.warren/index.db with
// SqliteModuleIndex, the code the server uses. Deterministic (fixed seed). Module paths look like real ones
// (github.com/ORG/NAME, golang.org/x/NAME, example.com/...), so that a search for "kit" or a prefix matches many.
// Versions are stored in time order over the last year, as a server would have stored them. The files themselves are
// not written: the console's overview, search and module pages read only the index.
using System.Diagnostics;
using System.Globalization;
using Warren.Storage;
using Warren.Storage.Sqlite;

if (args.Length != 3 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var modules) || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var versions) ||
    modules < 1 || versions < modules)
{
    Console.Error.WriteLine("usage: ConsoleIndex STORE_ROOT MODULES VERSIONS (VERSIONS >= MODULES >= 1)");
    return 2;
}

var root = Path.GetFullPath(args[0]);
using var index = new SqliteModuleIndex(new SqliteIndexOptions { Path = Path.Combine(root, StoreLayout.StateDirectory, "index.db") });
var random = new Random(20261206);
string[] hosts = ["github.com", "gitlab.com", "golang.org/x", "example.com", "go.acme.dev"];
string[] words = ["kit", "log", "http", "grpc", "auth", "cache", "sql", "json", "yaml", "cli", "metrics", "trace", "queue", "store", "mux", "retry", "config", "crypto", "uuid", "errors"];

// Module i gets versions[i] versions: VERSIONS spread over MODULES, 1 to ~2×average each.
var paths = new string[modules];
var counts = new int[modules];
var average = (double)versions / modules;
var assigned = 0;
for (var i = 0; i < modules; i++)
{
    var host = hosts[i % hosts.Length];
    var org = host.Contains('/', StringComparison.Ordinal) ? "" : "org" + (i / 37).ToString("D3", CultureInfo.InvariantCulture) + "/";
    paths[i] = $"{host}/{org}{words[i % words.Length]}-{words[(i / words.Length) % words.Length]}{i.ToString(CultureInfo.InvariantCulture)}";
    counts[i] = 1;
    assigned++;
}

while (assigned < versions)
{
    var i = random.Next(modules);
    if (counts[i] < 2 * average)
    {
        counts[i]++;
        assigned++;
    }
}

// Every (module, version), in the order they were stored: spread over the last year, oldest first.
var all = new List<(string Module, string Version)>(versions);
for (var i = 0; i < modules; i++)
{
    for (var v = 0; v < counts[i]; v++)
    {
        all.Add((paths[i], $"v1.{(v / 10).ToString(CultureInfo.InvariantCulture)}.{(v % 10).ToString(CultureInfo.InvariantCulture)}"));
    }
}

all = all.OrderBy(_ => random.Next()).ToList();
var now = DateTimeOffset.UtcNow;
var start = now.AddDays(-365);
var step = TimeSpan.FromTicks((now - start).Ticks / versions);
var watch = Stopwatch.StartNew();
var usage = new List<VersionUsage>(versions);
var downloads = new List<DownloadCount>();
var today = DateOnly.FromDateTime(now.UtcDateTime);
for (var n = 0; n < all.Count; n++)
{
    var (module, version) = all[n];
    var at = start + step * n;
    var zipSize = 2_000 + random.Next(200_000);
    await index.RecordArtifactAsync(new ArtifactRecord(module, version, ArtifactKind.Info, null, 60, "upstream", at), CancellationToken.None);
    await index.RecordArtifactAsync(new ArtifactRecord(module, version, ArtifactKind.Mod, "h1:" + Hash(random), 40 + random.Next(400), "upstream", at), CancellationToken.None);
    await index.RecordArtifactAsync(new ArtifactRecord(module, version, ArtifactKind.Zip, "h1:" + Hash(random), zipSize, "upstream", at), CancellationToken.None);
    await index.RecordVerificationAsync(new VersionVerification(module, version, "sum.golang.org", 1_000_000 + n, at), CancellationToken.None);
    var count = random.Next(50);
    usage.Add(new VersionUsage(module, version, at.AddDays(random.Next(30)) < now ? at.AddDays(random.Next(30)) : now, count));
    for (var d = 0; d < 3 && count > 0; d++)
    {
        downloads.Add(new DownloadCount(module, version, "ci-" + random.Next(5).ToString(CultureInfo.InvariantCulture), "node-a",
            today.AddDays(-random.Next(90)), 1 + random.Next(count), now.AddDays(-random.Next(90))));
    }

    if ((n + 1) % 10_000 == 0)
    {
        Console.Error.WriteLine($"{n + 1} versions recorded ({watch.Elapsed.TotalSeconds:F0}s)");
    }
}

for (var i = 0; i < usage.Count; i += 10_000)
{
    await index.RecordUsageAsync(usage.GetRange(i, Math.Min(10_000, usage.Count - i)), CancellationToken.None);
}

for (var i = 0; i < downloads.Count; i += 10_000)
{
    await index.RecordDownloadsAsync(downloads.GetRange(i, Math.Min(10_000, downloads.Count - i)), CancellationToken.None);
}

var stats = await index.GetStatsAsync(CancellationToken.None);
Console.WriteLine($"{stats.Modules} modules, {stats.Versions} versions, {downloads.Count} download rows in {watch.Elapsed.TotalSeconds:F1}s");
return 0;

static string Hash(Random random)
{
    var bytes = new byte[32];
    random.NextBytes(bytes);
    return Convert.ToBase64String(bytes);
}
