using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;
using Warren.Server.Upstream;

namespace Warren.Server.Vulns;

/// <summary>What a source answered for one file of the database.</summary>
public enum VulnDbStatus
{
    Ok,
    NotModified,
    NotFound,
}

/// <summary>One file of the upstream database, with its validators (for the next conditional request).</summary>
public sealed record VulnDbResponse(VulnDbStatus Status, byte[] Body, string? ETag, DateTimeOffset? LastModified);

/// <summary>The validators of the last good index/db.json.</summary>
public sealed record VulnDbValidators(string? ETag, DateTimeOffset? LastModified);

/// <summary>Where the database is read from: an http(s) server (current layout), a local directory in that layout, or a
/// local vulndb.zip. Failures (network, I/O, over a limit) are exceptions with one-line messages.</summary>
public abstract class VulnDbSource
{
    /// <summary>The source as configured (for logs and the stored state).</summary>
    public abstract string Name { get; }

    /// <summary>Whether reading it contacts the network (not done in --offline mode).</summary>
    public abstract bool IsRemote { get; }

    /// <summary>Reads a file of the database ("index/db.json", "ID/GO-2023-0001.json"); conditionally when validators are given.</summary>
    public abstract Task<VulnDbResponse> GetAsync(string path, VulnDbValidators? validators, int maxBytes, CancellationToken cancellationToken);

    /// <summary>The problems of the --vulndb setting, one line each.</summary>
    public static IEnumerable<string> Problems(WarrenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.VulnDb;
        if (!IsOff(value))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "file"))
            {
                yield return $"vulndb \"{value}\": want an http(s) URL (such as https://vuln.go.dev), file:///DIR, or off";
            }
            else if (uri.Scheme == "file" && !(Directory.Exists(uri.LocalPath) || File.Exists(uri.LocalPath)))
            {
                yield return $"vulndb \"{value}\": {uri.LocalPath} does not exist (want a directory in the database's layout, or a vulndb.zip)";
            }
            else if (uri.Scheme is "http" or "https" && (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
            {
                yield return $"vulndb \"{value}\": the URL must not carry a query or fragment";
            }
        }

        if (options.VulnDbInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"vulndb interval must be at least 1 second, not {options.VulnDbInterval}";
        }
    }

    /// <summary>Whether the setting turns the mirror off.</summary>
    public static bool IsOff(string? value) => string.Equals(value?.Trim(), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>The http(s) endpoint of the setting, for the egress policy; null for off and file://.</summary>
    public static Uri? RemoteUrl(WarrenOptions options) =>
        !IsOff(options.VulnDb) && Uri.TryCreate(options.VulnDb, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    /// <summary>The source of a validated setting; null when off.</summary>
    /// <param name="time">The clock of request timeouts (null: the system's).</param>
    public static VulnDbSource? Create(WarrenOptions options, IHttpClientFactory clients, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (IsOff(options.VulnDb))
        {
            return null;
        }

        var uri = new Uri(options.VulnDb, UriKind.Absolute);
        if (uri.Scheme == "file")
        {
            return File.Exists(uri.LocalPath) ? new ZipVulnDbSource(uri.LocalPath) : new DirectoryVulnDbSource(uri.LocalPath);
        }

        return new HttpVulnDbSource(clients.CreateClient(VulnDbMirror.ClientName), uri, options.UpstreamTimeout, time);
    }

    /// <summary>Whether a relative path is one the mirror asks a source for.</summary>
    internal static bool IsFetchedPath(string path) =>
        path is "index/db.json" or "index/vulns.json" or "index/modules.json" or VulnDbArchive.FileName ||
        (path.StartsWith("ID/", StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal) && VulnDbSnapshot.IsValidId(path[3..^5]));
}

/// <summary>A database served over http(s) (vuln.go.dev, another Warren's /vuln/), read through the named client that
/// passes the egress policy; each request is bounded by timeout on time (null: the system clock).</summary>
public sealed class HttpVulnDbSource(HttpClient client, Uri root, TimeSpan timeout, TimeProvider? time = null) : VulnDbSource
{
    private readonly string _base = root.AbsoluteUri.TrimEnd('/') + "/";

    public override string Name => root.AbsoluteUri.TrimEnd('/');

    public override bool IsRemote => true;

    public override async Task<VulnDbResponse> GetAsync(string path, VulnDbValidators? validators, int maxBytes, CancellationToken cancellationToken)
    {
        if (!IsFetchedPath(path))
        {
            throw new ArgumentException("not a database file: " + path, nameof(path));
        }

        using var cts = new Warren.Core.Limits.Deadline(timeout, time ?? TimeProvider.System, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, _base + path);
        request.Headers.UserAgent.ParseAdd("Warren-vulndb-mirror/1");
        if (validators?.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfNoneMatch.Add(tag);
        }

        if (validators?.LastModified is { } since)
        {
            request.Headers.IfModifiedSince = since;
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var newTag = response.Headers.ETag?.ToString();
            var lastModified = response.Content.Headers.LastModified;
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotModified:
                    return new VulnDbResponse(VulnDbStatus.NotModified, [], newTag ?? validators?.ETag, lastModified ?? validators?.LastModified);
                case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    return new VulnDbResponse(VulnDbStatus.NotFound, [], null, null);
                case HttpStatusCode.OK:
                    break;
                default:
                    throw new IOException($"{Name}/{path}: {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new IOException($"{Name}/{path}: {response.Content.Headers.ContentLength} bytes, over the limit of {maxBytes}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            var bytes = await ReadBoundedAsync(body, maxBytes, $"{Name}/{path}", cts.Token).ConfigureAwait(false);
            return new VulnDbResponse(VulnDbStatus.Ok, bytes, newTag, lastModified);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"{Name}/{path}: no answer within {timeout}");
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"{Name}/{path}: {HttpDownloader.OneLine(e)}", e);
        }
    }

    internal static async Task<byte[]> ReadBoundedAsync(Stream body, int maxBytes, string what, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new IOException($"{what}: over the limit of {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}

/// <summary>A directory in the current layout (file:///DIR); a file's validator is its modification time and length.</summary>
public sealed class DirectoryVulnDbSource(string root) : VulnDbSource
{
    public override string Name => new Uri(Path.GetFullPath(root)).AbsoluteUri;

    public override bool IsRemote => false;

    public override async Task<VulnDbResponse> GetAsync(string path, VulnDbValidators? validators, int maxBytes, CancellationToken cancellationToken)
    {
        if (!IsFetchedPath(path))
        {
            throw new ArgumentException("not a database file: " + path, nameof(path));
        }

        var file = new FileInfo(Path.Combine(root, path.Replace('/', Path.DirectorySeparatorChar)));
        if (!file.Exists)
        {
            return new VulnDbResponse(VulnDbStatus.NotFound, [], null, null);
        }

        var tag = FileTag(file);
        if (validators?.ETag == tag)
        {
            return new VulnDbResponse(VulnDbStatus.NotModified, [], tag, file.LastWriteTimeUtc);
        }

        if (file.Length > maxBytes)
        {
            throw new IOException($"{file.FullName}: {file.Length} bytes, over the limit of {maxBytes}");
        }

        var body = await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        return new VulnDbResponse(VulnDbStatus.Ok, body, tag, file.LastWriteTimeUtc);
    }

    internal static string FileTag(FileInfo file) =>
        "\"" + file.LastWriteTimeUtc.Ticks.ToString("x", CultureInfo.InvariantCulture) + "-" + file.Length.ToString("x", CultureInfo.InvariantCulture) + "\"";
}

/// <summary>A local vulndb.zip (file:///…/vulndb.zip): only "vulndb.zip" is read, whole.</summary>
public sealed class ZipVulnDbSource(string file) : VulnDbSource
{
    public override string Name => new Uri(Path.GetFullPath(file)).AbsoluteUri;

    public override bool IsRemote => false;

    public override async Task<VulnDbResponse> GetAsync(string path, VulnDbValidators? validators, int maxBytes, CancellationToken cancellationToken)
    {
        if (path != VulnDbArchive.FileName)
        {
            return new VulnDbResponse(VulnDbStatus.NotFound, [], null, null);
        }

        var info = new FileInfo(file);
        if (!info.Exists)
        {
            throw new IOException($"{file} does not exist");
        }

        var tag = DirectoryVulnDbSource.FileTag(info);
        if (validators?.ETag == tag)
        {
            return new VulnDbResponse(VulnDbStatus.NotModified, [], tag, info.LastWriteTimeUtc);
        }

        if (info.Length > maxBytes)
        {
            throw new IOException($"{file}: {info.Length} bytes, over the limit of {maxBytes}");
        }

        return new VulnDbResponse(VulnDbStatus.Ok, await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false), tag, info.LastWriteTimeUtc);
    }
}
