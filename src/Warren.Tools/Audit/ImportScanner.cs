using Warren.Core.Modules;

namespace Warren.Tools.Audit;

/// <summary>The packages a module's own Go files import: every .go file (test files excepted) under the module root,
/// skipping testdata, vendor, directories whose names start with _ or ., and nested modules (directories with their own
/// go.mod), as the go command does. Build constraints are not evaluated: every file counts.</summary>
internal static class ImportScanner
{
    public static async Task<HashSet<string>> ScanAsync(IEnumerable<string> moduleRoots, CancellationToken cancellationToken)
    {
        var imports = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in moduleRoots)
        {
            var pending = new Stack<string>();
            pending.Push(root);
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var dir = pending.Pop();
                IEnumerable<string> entries;
                try
                {
                    entries = Directory.EnumerateFileSystemEntries(dir).ToList();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                foreach (var entry in entries)
                {
                    var name = Path.GetFileName(entry);
                    if (Directory.Exists(entry))
                    {
                        if (name is "testdata" or "vendor" || name.StartsWith('_') || name.StartsWith('.')
                            || File.Exists(Path.Combine(entry, "go.mod")) || new FileInfo(entry).LinkTarget is not null)
                        {
                            continue;
                        }

                        pending.Push(entry);
                    }
                    else if (name.EndsWith(".go", StringComparison.Ordinal) && !name.EndsWith("_test.go", StringComparison.Ordinal)
                        && !name.StartsWith('_') && !name.StartsWith('.'))
                    {
                        try
                        {
                            var header = await GoImports.ReadFileAsync(entry, cancellationToken).ConfigureAwait(false);
                            imports.UnionWith(header.Imports);
                        }
                        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                        {
                            // An unreadable file imports nothing the audit can see.
                        }
                    }
                }
            }
        }

        return imports;
    }
}
