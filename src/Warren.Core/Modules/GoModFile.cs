using System.Text;
using System.Text.RegularExpressions;
using ModulePathRules = Warren.Core.Modules.ModulePath;

namespace Warren.Core.Modules;

/// <summary>A require directive.</summary>
public sealed record GoModRequire(string Path, string Version, bool Indirect);

/// <summary>An exclude directive.</summary>
public sealed record GoModExclude(string Path, string Version);

/// <summary>A replace directive. OldVersion is null when every version of OldPath is replaced; NewVersion is null when
/// NewPath is a directory (rooted, or starting with ./ or ../, in Unix or Windows syntax).</summary>
public sealed record GoModReplace(string OldPath, string? OldVersion, string NewPath, string? NewVersion)
{
    public bool IsDirectory => NewVersion is null;
}

/// <summary>A retract directive: the closed interval [Low, High] (Low == High for a single version) and the rationale
/// taken from its comments ("" if none).</summary>
public sealed record GoModRetract(string Low, string High, string Rationale);

/// <summary>A parsed go.mod (golang.org/x/mod/modfile subset: module, go, require, exclude, replace, retract).</summary>
public sealed partial class GoModFile
{
    /// <summary>The module path, or null when there is no module directive.</summary>
    public string? Module { get; init; }

    /// <summary>The deprecation message from the module directive's comments ("// Deprecated: ..."), or null.</summary>
    public string? ModuleDeprecated { get; init; }

    /// <summary>The go directive's version ("1.19"), or null.</summary>
    public string? Go { get; init; }

    public IReadOnlyList<GoModRequire> Requires { get; init; } = [];

    public IReadOnlyList<GoModExclude> Excludes { get; init; } = [];

    public IReadOnlyList<GoModReplace> Replaces { get; init; } = [];

    public IReadOnlyList<GoModRetract> Retracts { get; init; } = [];

    /// <summary>modfile.Parse with no version fixer: the main module's go.mod. Unknown directives and blocks are errors,
    /// versions in require, exclude and replace must be valid (they are canonicalized).</summary>
    /// <exception cref="GoModParseException">The file does not parse; the message lists every error as Go prints it.</exception>
    public static GoModFile Parse(string fileName, string text) => ParseCore(fileName, text, strict: true);

    /// <inheritdoc cref="Parse(string, string)"/>
    public static GoModFile Parse(string fileName, ReadOnlySpan<byte> data) => ParseCore(fileName, Decode(data), strict: true);

    /// <summary>modfile.ParseLax: a dependency's go.mod. Only module, go, require and retract are interpreted; unknown
    /// directives and blocks, exclude and replace are ignored, as are malformed retractions. A go version such as "1.21.0"
    /// or "v1.2rc1" is reduced to its major.minor.</summary>
    /// <exception cref="GoModParseException">The file does not parse.</exception>
    public static GoModFile ParseLax(string fileName, string text) => ParseCore(fileName, text, strict: false);

    /// <inheritdoc cref="ParseLax(string, string)"/>
    public static GoModFile ParseLax(string fileName, ReadOnlySpan<byte> data) => ParseCore(fileName, Decode(data), strict: false);

    /// <summary>What the go command refuses in a dependency's go.mod: one that does not parse (modfile.ParseLax), has
    /// no module line, or declares another module path than the one requested. Null when it is usable.</summary>
    public static string? CheckDependency(string modulePath, ReadOnlySpan<byte> body)
    {
        GoModFile file;
        try
        {
            file = ParseLax("go.mod", body);
        }
        catch (GoModParseException ex)
        {
            return "the .mod does not parse: " + GoQuoting.Printable(ex.Message.Split('\n')[0]);
        }

        if (string.IsNullOrEmpty(file.Module))
        {
            return "the .mod has no module line";
        }

        return file.Module == modulePath ? null : $"the .mod declares its path as {GoQuoting.Printable(file.Module)}, not {modulePath}";
    }

    private static string Decode(ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(data);

    private static GoModFile ParseCore(string fileName, string text, bool strict)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(text);
        GoModFileSyntax syntax = GoModSyntaxReader.Read(fileName, text);
        var interpreter = new Interpreter(fileName, strict);
        return interpreter.Run(syntax);
    }

    /// <summary>modfile.ModulePath: the module line's path, or null, without a full parse; tolerant of unrelated problems
    /// elsewhere in the file.</summary>
    public static string? ModulePath(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int next = 0;
        while (next < text.Length)
        {
            int newline = text.IndexOf('\n', next);
            ReadOnlySpan<char> line = newline < 0 ? text.AsSpan(next) : text.AsSpan(next, newline - next);
            next = newline < 0 ? text.Length : newline + 1;

            int comment = line.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            line = line.Trim();
            if (!line.StartsWith("module", StringComparison.Ordinal))
            {
                continue;
            }

            line = line["module".Length..];
            int before = line.Length;
            line = line.Trim();
            if (line.Length == before || line.IsEmpty)
            {
                continue; // "modulex ..." or a bare "module"
            }

            if (line[0] is '"' or '`')
            {
                // A malformed quoted string (or a path continued on the next line) ends the search.
                return GoQuoting.TryUnquote(line.ToString(), out string unquoted) && unquoted.Length > 0 ? unquoted : null;
            }

            return line.ToString();
        }

        return null;
    }

    /// <inheritdoc cref="ModulePath(string)"/>
    public static string? ModulePath(ReadOnlySpan<byte> data) => ModulePath(Decode(data));

    /// <summary>modfile.IsDirectoryPath: relative (./, ../) or rooted paths, in Unix or Windows syntax, including "C:".</summary>
    public static bool IsDirectoryPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.StartsWith("./", StringComparison.Ordinal) || path.StartsWith("../", StringComparison.Ordinal)
            || path.StartsWith('/') || path.StartsWith(".\\", StringComparison.Ordinal)
            || path.StartsWith("..\\", StringComparison.Ordinal) || path.StartsWith('\\')
            || (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':');
    }

    /// <summary>modfile.GoVersionRE.</summary>
    [GeneratedRegex(@"\A([1-9][0-9]*)\.(0|[1-9][0-9]*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex GoVersionRegex();

    /// <summary>The lax form accepted in dependencies: "1.21.0", "v1.2", "1.2rc1" → "1.21", "1.2", "1.2".</summary>
    [GeneratedRegex(@"\Av?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex LaxGoVersionRegex();

    /// <summary>The first paragraph starting with "Deprecated:", up to the end of that paragraph.</summary>
    [GeneratedRegex(@"(?:\A|\n\n)Deprecated: *(.*?)(?:\z|\n\n)", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex DeprecatedRegex();

    /// <summary>Gives meaning to the lines of a syntax tree (modfile's rule.go).</summary>
    private sealed class Interpreter(string fileName, bool strict)
    {
        private const string MustBeOfTheForm = "must be of the form v1.2.3";

        private readonly List<GoModError> _errors = [];
        private readonly List<GoModRequire> _requires = [];
        private readonly List<GoModExclude> _excludes = [];
        private readonly List<GoModReplace> _replaces = [];
        private readonly List<GoModRetract> _retracts = [];
        private bool _haveModule;
        private string? _module;
        private string? _deprecated;
        private string? _go;

        public GoModFile Run(GoModFileSyntax syntax)
        {
            foreach (GoModExpr stmt in syntax.Statements)
            {
                switch (stmt)
                {
                    case GoModLine line:
                        Add(null, line, line.Tokens[0], line.Tokens.GetRange(1, line.Tokens.Count - 1));
                        break;

                    case GoModLineBlock block:
                        if (block.Tokens.Count == 1 && block.Tokens[0] is "module" or "require" or "exclude" or "replace" or "retract")
                        {
                            foreach (GoModLine line in block.Lines)
                            {
                                Add(block, line, block.Tokens[0], [.. line.Tokens]);
                            }
                        }
                        else if (strict)
                        {
                            Fail(block.SpanStart, "unknown block type: " + string.Join(' ', block.Tokens));
                        }

                        break;
                }
            }

            if (_errors.Count > 0)
            {
                throw new GoModParseException(_errors);
            }

            return new GoModFile
            {
                Module = _module,
                ModuleDeprecated = _deprecated,
                Go = _go,
                Requires = _requires,
                Excludes = _excludes,
                Replaces = _replaces,
                Retracts = _retracts,
            };
        }

        private void Fail(GoModPosition pos, string message) =>
            _errors.Add(new GoModError(fileName, pos.Line, pos.LineRune, message));

        private void Add(GoModLineBlock? block, GoModLine line, string verb, List<string> args)
        {
            // A dependency's go.mod: keep what matters for the module graph; forward compatibility for the rest.
            if (!strict && verb is not ("go" or "module" or "retract" or "require"))
            {
                return;
            }

            GoModPosition at = line.SpanStart;
            switch (verb)
            {
                case "go":
                    AddGo(at, args);
                    break;

                case "module":
                    AddModule(block, line, at, args);
                    break;

                case "require":
                case "exclude":
                    AddRequireOrExclude(line, at, verb, args);
                    break;

                case "replace":
                    AddReplace(at, verb, args);
                    break;

                case "retract":
                    AddRetract(block, line, at, verb, args);
                    break;

                default:
                    Fail(at, "unknown directive: " + verb);
                    break;
            }
        }

        private void AddGo(GoModPosition at, List<string> args)
        {
            if (_go is not null)
            {
                Fail(at, "repeated go statement");
                return;
            }

            if (args.Count != 1)
            {
                Fail(at, "go directive expects exactly one argument");
                return;
            }

            string version = args[0];
            if (!GoVersionRegex().IsMatch(version))
            {
                Match lax = strict ? Match.Empty : LaxGoVersionRegex().Match(version);
                if (!lax.Success)
                {
                    Fail(at, $"invalid go version '{version}': must match format 1.23");
                    return;
                }

                version = lax.Groups[1].Value;
            }

            _go = version;
        }

        private void AddModule(GoModLineBlock? block, GoModLine line, GoModPosition at, List<string> args)
        {
            if (_haveModule)
            {
                Fail(at, "repeated module statement");
                return;
            }

            _haveModule = true;
            Match m = DeprecatedRegex().Match(DirectiveComment(block, line));
            _deprecated = m.Success && m.Groups[1].Length > 0 ? m.Groups[1].Value : null;
            if (args.Count != 1)
            {
                Fail(at, "usage: module module/path");
                return;
            }

            if (!TryParseString(args[0], out string path, out string? error))
            {
                Fail(at, "invalid quoted string: " + error);
                return;
            }

            _module = path;
        }

        private void AddRequireOrExclude(GoModLine line, GoModPosition at, string verb, List<string> args)
        {
            if (args.Count != 2)
            {
                Fail(at, $"usage: {verb} module/path v1.2.3");
                return;
            }

            if (!TryParseString(args[0], out string path, out string? error))
            {
                Fail(at, "invalid quoted string: " + error);
                return;
            }

            if (!TryParseVersion(verb, path, args[1], out string version, out error))
            {
                Fail(at, error);
                return;
            }

            if (!TryPathMajor(path, out string pathMajor))
            {
                Fail(at, "invalid module path");
                return;
            }

            if (CheckPathMajor(version, pathMajor) is { } mismatch)
            {
                Fail(at, Directive(verb, path) + mismatch);
                return;
            }

            if (verb == "require")
            {
                _requires.Add(new GoModRequire(path, version, IsIndirect(line)));
            }
            else
            {
                _excludes.Add(new GoModExclude(path, version));
            }
        }

        private void AddReplace(GoModPosition at, string verb, List<string> args)
        {
            int arrow = args.Count >= 2 && args[1] == "=>" ? 1 : 2;
            if (args.Count < arrow + 2 || args.Count > arrow + 3 || args[arrow] != "=>")
            {
                Fail(at, $"usage: {verb} module/path [v1.2.3] => other/module v1.4\n\t or {verb} module/path [v1.2.3] => ../local/directory");
                return;
            }

            if (!TryParseString(args[0], out string oldPath, out string? error))
            {
                Fail(at, "invalid quoted string: " + error);
                return;
            }

            if (!TryPathMajor(oldPath, out string pathMajor))
            {
                Fail(at, Directive(verb, oldPath) + "invalid module path");
                return;
            }

            string? oldVersion = null;
            if (arrow == 2)
            {
                if (!TryParseVersion(verb, oldPath, args[1], out string v, out error))
                {
                    Fail(at, error);
                    return;
                }

                if (CheckPathMajor(v, pathMajor) is { } mismatch)
                {
                    Fail(at, Directive(verb, oldPath) + mismatch);
                    return;
                }

                oldVersion = v;
            }

            if (!TryParseString(args[arrow + 1], out string newPath, out error))
            {
                Fail(at, "invalid quoted string: " + error);
                return;
            }

            string? newVersion = null;
            if (args.Count == arrow + 2)
            {
                if (!IsDirectoryPath(newPath))
                {
                    Fail(at, "replacement module without version must be directory path (rooted or starting with ./ or ../)");
                    return;
                }

                if (Path.DirectorySeparatorChar == '/' && newPath.Contains('\\', StringComparison.Ordinal))
                {
                    Fail(at, "replacement directory appears to be Windows path (on a non-windows system)");
                    return;
                }
            }
            else
            {
                if (!TryParseVersion(verb, newPath, args[arrow + 2], out string v, out error))
                {
                    Fail(at, error);
                    return;
                }

                if (IsDirectoryPath(newPath))
                {
                    Fail(at, $"replacement module directory path {GoQuoting.Quote(newPath)} cannot have version");
                    return;
                }

                newVersion = v;
            }

            _replaces.Add(new GoModReplace(oldPath, oldVersion, newPath, newVersion));
        }

        private void AddRetract(GoModLineBlock? block, GoModLine line, GoModPosition at, string verb, List<string> args)
        {
            string rationale = DirectiveComment(block, line);
            if (!TryParseVersionInterval(verb, args, out string low, out string high, out int used, out string? error))
            {
                // Only the main module reports malformed intervals: future syntax (open intervals, say) must not
                // break dependencies.
                if (strict)
                {
                    Fail(at, error);
                }

                return;
            }

            if (used < args.Count && strict)
            {
                Fail(at, "unexpected token after version: " + GoQuoting.Quote(args[used]));
                return;
            }

            _retracts.Add(new GoModRetract(low, high, rationale));
        }

        /// <summary>A single version or "[ low , high ]". Versions are only unquoted here (modfile does not canonicalize
        /// retractions without a version fixer).</summary>
        private static bool TryParseVersionInterval(string verb, List<string> toks, out string low, out string high, out int used, out string error)
        {
            low = high = error = "";
            used = 0;
            if (toks.Count == 0 || toks[0] == "(")
            {
                error = "expected '[' or version";
                return false;
            }

            if (toks[0] != "[")
            {
                if (!TryParseRetractVersion(verb, toks[0], out low, out error))
                {
                    return false;
                }

                high = low;
                used = 1;
                return true;
            }

            if (toks.Count < 2)
            {
                error = "expected version after '['";
                return false;
            }

            if (!TryParseRetractVersion(verb, toks[1], out low, out error))
            {
                return false;
            }

            if (toks.Count < 3 || toks[2] != ",")
            {
                error = "expected ',' after version";
                return false;
            }

            if (toks.Count < 4)
            {
                error = "expected version after ','";
                return false;
            }

            if (!TryParseRetractVersion(verb, toks[3], out high, out error))
            {
                return false;
            }

            if (toks.Count < 5 || toks[4] != "]")
            {
                error = "expected ']' after version";
                return false;
            }

            used = 5;
            return true;
        }

        private static bool TryParseRetractVersion(string verb, string token, out string version, out string error)
        {
            error = "";
            if (!TryParseString(token, out version, out string? quoteError))
            {
                error = Directive(verb, "") + InvalidVersion(token, quoteError);
                return false;
            }

            return true;
        }

        /// <summary>parseVersion without a fixer: unquote, then require module.CanonicalVersion to be non-empty and use it.</summary>
        private static bool TryParseVersion(string verb, string path, string token, out string version, out string error)
        {
            error = "";
            string prefix = Directive(verb, path);
            if (!TryParseString(token, out string raw, out string? quoteError))
            {
                version = "";
                error = prefix + InvalidVersion(token, quoteError);
                return false;
            }

            version = CanonicalVersion(raw);
            if (version.Length == 0)
            {
                error = prefix + InvalidVersion(raw, MustBeOfTheForm);
                return false;
            }

            return true;
        }

        /// <summary>The "verb path: " prefix of modfile errors that name a module.</summary>
        private static string Directive(string verb, string path) => path.Length > 0 ? $"{verb} {path}: " : $"{verb}: ";

        private static string InvalidVersion(string version, string reason) => $"version {GoQuoting.Quote(version)} invalid: {reason}";

        /// <summary>module.CanonicalVersion: semver.Canonical, keeping a "+incompatible" build suffix.</summary>
        private static string CanonicalVersion(string v)
        {
            string canonical = SemVer.Canonical(v);
            if (canonical.Length > 0 && SemVer.Build(v) == "+incompatible" && !canonical.EndsWith("+incompatible", StringComparison.Ordinal))
            {
                canonical += "+incompatible";
            }

            return canonical;
        }

        private static bool TryPathMajor(string path, out string pathMajor)
        {
            (_, pathMajor, bool ok) = ModulePathRules.SplitPathVersion(path);
            return ok;
        }

        /// <summary>module.CheckPathMajor, as the text of an InvalidVersionError, or null.</summary>
        private static string? CheckPathMajor(string version, string pathMajor)
        {
            string? reason = ModulePathRules.CheckPathMajor(version, pathMajor);
            if (reason is null)
            {
                return null;
            }

            return reason.StartsWith("version ", StringComparison.Ordinal) ? reason : InvalidVersion(version, reason);
        }

        /// <summary>parseString: a double-quoted Go string, or a bare token that contains no quote characters.</summary>
        private static bool TryParseString(string token, out string value, out string error)
        {
            error = "";
            if (token.StartsWith('"'))
            {
                if (!GoQuoting.TryUnquote(token, out value))
                {
                    error = "invalid syntax";
                    return false;
                }

                return true;
            }

            if (token.AsSpan().IndexOfAny("\"'`") >= 0)
            {
                // Other quotes are reserved, and 'x' should not silently mean x.
                value = "";
                error = "unquoted string cannot contain quote";
                return false;
            }

            value = token;
            return true;
        }

        /// <summary>A "// indirect" (or "// indirect; ...") comment ends the line.</summary>
        private static bool IsIndirect(GoModLine line)
        {
            if (line.Suffix.Count == 0)
            {
                return false;
            }

            string text = line.Suffix[0].Token;
            if (text.StartsWith("//", StringComparison.Ordinal))
            {
                text = text[2..];
            }

            string[] fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return (fields.Length == 1 && fields[0] == "indirect") || (fields.Length > 1 && fields[0] == "indirect;");
        }

        /// <summary>The text of the comments on a directive (or on its block when the line has none), one trimmed comment
        /// a line, blank lines skipped.</summary>
        private static string DirectiveComment(GoModLineBlock? block, GoModLine line)
        {
            GoModExpr owner = line;
            if (block is not null && line.Before.Count == 0 && line.Suffix.Count == 0)
            {
                owner = block;
            }

            var lines = new List<string>();
            foreach (GoModComment c in owner.Before.Concat(owner.Suffix))
            {
                if (c.Token.StartsWith("//", StringComparison.Ordinal))
                {
                    lines.Add(c.Token[2..].Trim());
                }
            }

            return string.Join('\n', lines);
        }
    }
}
