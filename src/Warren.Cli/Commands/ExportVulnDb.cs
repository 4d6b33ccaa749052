using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Warren.Core.Vulns;
using Warren.Protocol.VulnDb;
using Warren.Server;
using Warren.Server.Configuration;
using Warren.Server.Vulns;

namespace Warren.Cli.Commands;

/// <summary>Where `warren export --with-vulndb[=SOURCE]` reads the Go vulnerability database from: the stored copy of a
/// store directory (ROOT/.warren/vulndb/vulndb.zip, which warren serve keeps and warren import installs; default: the
/// store of a warren serve without --root), a vulndb.zip, a directory in the current layout (index/db.json, ID/ID.json;
/// also as file:///DIR), or an http(s) URL serving that layout (another Warren's /vuln, or vuln.go.dev). A URL is read
/// the way warren serve mirrors it (the same client, limits and egress policy).</summary>
internal static class ExportVulnDb
{
    /// <summary>The database and a name for its source, or a one-line problem.</summary>
    public static async Task<((VulnDbSnapshot Snapshot, string Source)? Db, string? Problem)> LoadAsync(string? value, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            var root = Path.Combine(GoEnvironment.UserCacheDirectory(Environment.GetEnvironmentVariable), "warren", "download");
            return File.Exists(VulnDbStoredCopy.ZipPath(root))
                ? FromStore(root)
                : (null, $"no vulnerability database stored under {root} (the store of a warren serve without --root); give --with-vulndb=STORE_DIR, =FILE.zip, =file:///DIR or =URL");
        }

        value = value.Trim();
        // Only URLs written as such ("/srv/warren" is an absolute URI too, but a path here).
        if (value.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file")
        {
            if (uri.Scheme == "file" && !Directory.Exists(Path.Combine(uri.LocalPath, ".warren")) && !File.Exists(uri.LocalPath))
            {
                return await FromSourceAsync(uri.AbsoluteUri, cancellationToken).ConfigureAwait(false);
            }

            if (uri.Scheme != "file")
            {
                return await FromSourceAsync(uri.AbsoluteUri.TrimEnd('/'), cancellationToken).ConfigureAwait(false);
            }

            value = uri.LocalPath;
        }

        if (Directory.Exists(value))
        {
            if (File.Exists(VulnDbStoredCopy.ZipPath(value)))
            {
                return FromStore(value);
            }

            if (File.Exists(Path.Combine(value, "index", "db.json")))
            {
                return await FromSourceAsync(new Uri(Path.GetFullPath(value)).AbsoluteUri, cancellationToken).ConfigureAwait(false);
            }

            return (null, $"{value}: neither a store directory holding a vulnerability database (.warren/vulndb/vulndb.zip) nor a database directory (index/db.json)");
        }

        if (File.Exists(value) && value.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                await using var file = File.OpenRead(value);
                return ((VulnDbArchive.Read(file, VulnDbLimits.Default), new Uri(Path.GetFullPath(value)).AbsoluteUri), null);
            }
            catch (Exception e) when (e is OsvFormatException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return (null, $"{value}: not a usable vulnerability database: {e.Message.ReplaceLineEndings(" ")}");
            }
        }

        return (null, $"{value}: want a store directory, a vulndb.zip, file:///DIR or an http(s) URL (--with-vulndb takes the next word as its source: write --with-vulndb=SOURCE, or put --with-vulndb last for the default)");
    }

    private static ((VulnDbSnapshot, string)?, string?) FromStore(string root)
    {
        try
        {
            return VulnDbStoredCopy.Load(root, VulnDbLimits.Default) is { } stored
                ? ((stored.Snapshot, "the stored copy of " + Path.GetFullPath(root)), null)
                : (null, $"no vulnerability database stored under {root}");
        }
        catch (Exception e) when (e is OsvFormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return (null, $"{VulnDbStoredCopy.ZipPath(root)}: not a usable vulnerability database: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>One full read of a source through warren serve's mirror, in a scratch store deleted afterwards.</summary>
    private static async Task<((VulnDbSnapshot, string)?, string?)> FromSourceAsync(string source, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("warren-export-vulndb-");
        try
        {
            var app = WarrenHost.Build(o =>
            {
                o.Listen = "127.0.0.1:0";
                o.Root = scratch.FullName;
                o.Upstream = "off";
                o.SumDb = "off";
                o.VulnDb = source;
            }, services: s => s.AddLogging(b => b.ClearProviders()));
            await using (app.ConfigureAwait(false))
            {
                _ = app.Services.GetRequiredService<IOptions<WarrenOptions>>().Value;
                var mirror = app.Services.GetRequiredService<VulnDbMirror>();
                return await mirror.RefreshAsync(cancellationToken).ConfigureAwait(false) && mirror.Current is { } snapshot
                    ? ((snapshot, source), null)
                    : (null, mirror.Status.LastError is { } error && error.Contains(source, StringComparison.Ordinal) ? error : $"{source}: {mirror.Status.LastError ?? "no database read"}");
            }
        }
        catch (OptionsValidationException e)
        {
            return (null, string.Join("; ", e.Failures));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
