using System.Collections.Concurrent;
using System.Text.Json;
using Warren.Core.Vulns;

namespace Warren.Tools.Audit;

/// <summary>
/// The Go vulnerability database in its current layout (https://go.dev/security/vuln/database): index/modules.json
/// names the advisories of each module, and ID/GO-YYYY-NNNN.json holds each entry (parsed by <see cref="OsvReader"/>).
/// The index is read once; entries are read on demand, once each.
/// </summary>
internal sealed class AuditVulnDb(AuditSource source)
{
    /// <summary>The largest index accepted (the whole public database's is a few hundred kilobytes).</summary>
    public const long MaxIndexBytes = 64L << 20;

    private readonly ConcurrentDictionary<string, Lazy<Task<(Advisory? Advisory, string? Error)>>> _entries = new(StringComparer.Ordinal);
    private Dictionary<string, IReadOnlyList<string>> _index = new(StringComparer.Ordinal);

    public string Display => source.Display;

    /// <summary>Reads index/modules.json; returns a one-line error or null.</summary>
    public async Task<string?> LoadIndexAsync(CancellationToken cancellationToken)
    {
        var answer = await source.GetAsync("index/modules.json", MaxIndexBytes, cancellationToken).ConfigureAwait(false);
        if (answer.Failure is { } failure)
        {
            return "vulnerability database: " + failure;
        }

        if (answer.Body is null)
        {
            return $"vulnerability database: {source.Display} has no index/modules.json (give --vulndb URL of a database in the current layout, or --vulndb off)";
        }

        try
        {
            using var doc = JsonDocument.Parse(answer.Body);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                return $"vulnerability database: {source.Display}/index/modules.json is not a JSON array";
            }

            var index = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var module in doc.RootElement.EnumerateArray())
            {
                if (module.ValueKind != JsonValueKind.Object || !module.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String
                    || path.GetString() is not { Length: > 0 } modulePath)
                {
                    continue;
                }

                var ids = new List<string>();
                if (module.TryGetProperty("vulns", out var vulns) && vulns.ValueKind == JsonValueKind.Array)
                {
                    foreach (var vuln in vulns.EnumerateArray())
                    {
                        if (vuln.ValueKind == JsonValueKind.Object && vuln.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                            && id.GetString() is { } text && IsSafeId(text))
                        {
                            ids.Add(text);
                        }
                    }
                }

                index[modulePath] = index.TryGetValue(modulePath, out var before) ? [.. before, .. ids] : ids;
            }

            _index = index;
            return null;
        }
        catch (JsonException ex)
        {
            return $"vulnerability database: {source.Display}/index/modules.json is not valid JSON: {ex.Message}";
        }
    }

    /// <summary>The advisories naming this module, with one line per entry that could not be read.</summary>
    public async Task<(IReadOnlyList<Advisory> Advisories, IReadOnlyList<string> Errors)> ForModuleAsync(string modulePath, CancellationToken cancellationToken)
    {
        if (!_index.TryGetValue(modulePath, out var ids) || ids.Count == 0)
        {
            return ([], []);
        }

        var advisories = new List<Advisory>();
        var errors = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var (advisory, error) = await _entries.GetOrAdd(id, i => new Lazy<Task<(Advisory?, string?)>>(() => LoadEntryAsync(i, cancellationToken))).Value.ConfigureAwait(false);
            if (advisory is not null)
            {
                advisories.Add(advisory);
            }
            else if (error is not null)
            {
                errors.Add(error);
            }
        }

        return (advisories, errors);
    }

    private async Task<(Advisory?, string?)> LoadEntryAsync(string id, CancellationToken cancellationToken)
    {
        var answer = await source.GetAsync($"ID/{id}.json", OsvReader.MaxEntryBytes, cancellationToken).ConfigureAwait(false);
        if (answer.Failure is { } failure)
        {
            return (null, "vulnerability database: " + failure);
        }

        if (answer.Body is null)
        {
            return (null, $"vulnerability database: {source.Display} lists {id} but has no ID/{id}.json");
        }

        try
        {
            return (OsvReader.Parse(answer.Body), null);
        }
        catch (OsvFormatException ex)
        {
            return (null, $"vulnerability database: ID/{id}.json: {ex.Message}");
        }
    }

    /// <summary>IDs become file names: letters, digits, '-', '.' and '_' only, not starting with a dot.</summary>
    private static bool IsSafeId(string id) =>
        id.Length is > 0 and <= 64 && id[0] != '.' && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
