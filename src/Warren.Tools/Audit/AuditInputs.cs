using System.Globalization;
using Warren.Core.Modules;
using Warren.Tools.Bundle;

namespace Warren.Tools.Audit;

/// <summary>A go.mod of an audited repository, parsed, with its text (for locations) and its directory.</summary>
internal sealed record AuditGoMod(string FilePath, string Directory, string Text, GoModFile File);

/// <summary>One module of a repository's build list, after replace directives.</summary>
/// <param name="Path">The module path fetched from the proxy.</param>
/// <param name="Version">The version fetched from the proxy.</param>
/// <param name="Location">Where the requirement is written.</param>
/// <param name="ImportPath">The module path the repository's imports use: the required path, which a replace directive
/// does not change.</param>
internal sealed record AuditRequirement(string Path, string Version, AuditLocation? Location, string ImportPath);

/// <summary>An audited repository: its go.mod files (one, or those a go.work uses) and its build list.</summary>
internal sealed record AuditRepository(string Name, string Root, IReadOnlyList<AuditGoMod> GoMods, IReadOnlyList<AuditRequirement> Requirements);

/// <summary>Turns the command line's DIR, go.mod and go.work arguments into repositories.</summary>
internal static class AuditInputs
{
    /// <summary>The repositories, or one line per input that cannot be read.</summary>
    public static (IReadOnlyList<AuditRepository> Repositories, IReadOnlyList<string> Errors) Resolve(IReadOnlyList<string> inputs)
    {
        var repositories = new List<AuditRepository>();
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            try
            {
                var (root, goMods, error) = Locate(input);
                if (error is not null)
                {
                    errors.Add(error);
                    continue;
                }

                var parsed = new List<AuditGoMod>();
                foreach (var goMod in goMods)
                {
                    if (!File.Exists(goMod))
                    {
                        errors.Add($"{input}: {goMod} does not exist");
                        continue;
                    }

                    var text = File.ReadAllText(goMod);
                    try
                    {
                        parsed.Add(new AuditGoMod(goMod, Path.GetDirectoryName(goMod)!, text, GoModFile.Parse(goMod, text)));
                    }
                    catch (GoModParseException ex)
                    {
                        errors.Add(ex.Message.Split('\n')[0]);
                    }
                }

                if (parsed.Count == 0)
                {
                    continue;
                }

                repositories.Add(new AuditRepository(UniqueName(names, root), root, parsed, BuildList(parsed)));
            }
            catch (IOException ex)
            {
                errors.Add($"{input}: {ex.Message}");
            }
            catch (UnauthorizedAccessException ex)
            {
                errors.Add($"{input}: {ex.Message}");
            }
        }

        return (repositories, errors);
    }

    /// <summary>The repository root and its go.mod files: a directory (its go.work if present, else its go.mod), a go.mod,
    /// or a go.work (each use directory's go.mod).</summary>
    private static (string Root, IReadOnlyList<string> GoMods, string? Error) Locate(string input)
    {
        var full = Path.GetFullPath(input);
        if (Directory.Exists(full))
        {
            var work = Path.Combine(full, "go.work");
            if (File.Exists(work))
            {
                return (full, WorkModules(work), null);
            }

            var mod = Path.Combine(full, "go.mod");
            return File.Exists(mod) ? (full, [mod], null) : (full, [], $"{input}: no go.mod or go.work in this directory");
        }

        if (!File.Exists(full))
        {
            return (full, [], $"{input}: no such file or directory");
        }

        var dir = Path.GetDirectoryName(full)!;
        return Path.GetFileName(full) switch
        {
            "go.work" => (dir, WorkModules(full), null),
            _ when full.EndsWith(".work", StringComparison.Ordinal) => (dir, WorkModules(full), null),
            _ => (dir, [full], null),
        };
    }

    private static List<string> WorkModules(string work)
    {
        var root = Path.GetDirectoryName(work)!;
        return BundleExporter.WorkUses(File.ReadAllText(work))
            .Select(u => Path.GetFullPath(Path.Combine(root, u, "go.mod")))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static string UniqueName(HashSet<string> names, string root)
    {
        var name = Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar));
        if (name.Length == 0)
        {
            name = "repository";
        }

        var candidate = name;
        for (var n = 2; !names.Add(candidate); n++)
        {
            candidate = name + "#" + n.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    /// <summary>
    /// The requirement lists of the go.mod files (Go 1.17 and later list every module of the build list there), with
    /// each file's replace directives applied, without the workspace's own modules and without directory replacements;
    /// a module required at several versions across a workspace's modules counts at the highest (as minimal version
    /// selection would pick). This is the go.mod's list, not a recomputation of the build list.
    /// </summary>
    internal static IReadOnlyList<AuditRequirement> BuildList(IReadOnlyList<AuditGoMod> goMods)
    {
        var own = goMods.Select(g => g.File.Module).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var selected = new Dictionary<string, AuditRequirement>(StringComparer.Ordinal);
        foreach (var goMod in goMods)
        {
            var locations = RequireLocations(goMod.FilePath, goMod.Text);
            foreach (var require in goMod.File.Requires)
            {
                if (own.Contains(require.Path))
                {
                    continue;
                }

                var replace = goMod.File.Replaces.FirstOrDefault(r => r.OldPath == require.Path && r.OldVersion == require.Version)
                    ?? goMod.File.Replaces.FirstOrDefault(r => r.OldPath == require.Path && r.OldVersion is null);
                if (replace is { IsDirectory: true })
                {
                    continue;
                }

                var path = replace?.NewPath ?? require.Path;
                var version = replace?.NewVersion ?? require.Version;
                locations.TryGetValue(require.Path, out var location);
                if (!selected.TryGetValue(path, out var existing) || SemVer.Compare(version, existing.Version) > 0)
                {
                    selected[path] = new AuditRequirement(path, version, location, require.Path);
                }
            }
        }

        return selected.Values.OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>The line and column of each module path in the require directives (single-line and block) of a go.mod.</summary>
    internal static Dictionary<string, AuditLocation> RequireLocations(string file, string text)
    {
        var locations = new Dictionary<string, AuditLocation>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        var inBlock = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var code = line;
            var comment = code.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0)
            {
                code = code[..comment];
            }

            var trimmed = code.Trim();
            int start;
            if (inBlock)
            {
                if (trimmed.StartsWith(')'))
                {
                    inBlock = false;
                    continue;
                }

                start = code.Length - code.TrimStart().Length;
            }
            else if (trimmed.StartsWith("require", StringComparison.Ordinal) && trimmed.Length > 7 && (char.IsWhiteSpace(trimmed[7]) || trimmed[7] == '('))
            {
                var rest = trimmed[7..].TrimStart();
                if (rest.StartsWith('('))
                {
                    inBlock = rest.Trim() == "(";
                    continue;
                }

                start = code.IndexOf("require", StringComparison.Ordinal) + 7;
                start += code[start..].Length - code[start..].TrimStart().Length;
            }
            else
            {
                continue;
            }

            var field = code[start..].TrimStart();
            var end = field.IndexOfAny([' ', '\t']);
            var token = end < 0 ? field : field[..end];
            if (token.Length == 0)
            {
                continue;
            }

            var path = token.Length >= 2 && token[0] == '"' && GoQuoting.TryUnquote(token, out var unquoted) ? unquoted : token;
            locations.TryAdd(path, new AuditLocation(file, i + 1, start + 1, start + 1 + token.Length));
        }

        return locations;
    }
}
