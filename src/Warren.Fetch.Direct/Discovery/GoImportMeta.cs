using System.Globalization;
using System.Text;

namespace Warren.Fetch.Direct.Discovery;

/// <summary>One &lt;meta name="go-import" content="prefix vcs repo"&gt; declaration.</summary>
public sealed record MetaImport(string Prefix, string Vcs, string RepoRoot);

/// <summary>The outcome of reading the go-import tags of a page: the tags found, and the reason parsing stopped early
/// when no tag was found before a syntax error (the go command reports the error only in that case).</summary>
public sealed record MetaImportParse(IReadOnlyList<MetaImport> Imports, string? Error);

/// <summary>
/// Finds go-import meta tags the way cmd/go's parseMetaGoImports does: a lenient (non-strict) XML token stream, not an
/// HTML parser. Tokens are read until &lt;body&gt; starts or &lt;/head&gt; ends; element and attribute names compare
/// case-insensitively (after any "ns:" prefix), the name attribute's value must be exactly "go-import", and the content
/// must have exactly three space-separated fields. Only the five XML entities and numeric character references are
/// decoded (HTML entities such as &amp;nbsp; stay as written). The only encodings accepted in an
/// &lt;?xml encoding=...?&gt; declaration are UTF-8 and ASCII.
/// </summary>
public static class GoImportMeta
{
    /// <summary>Parses the go-import tags of a page. With preferMod (module mode, as the go command uses), "mod" entries
    /// come first and non-mod entries for a prefix that also has a mod entry are dropped.</summary>
    public static MetaImportParse Parse(ReadOnlySpan<byte> html, bool preferMod = true)
    {
        var found = new List<MetaImport>();
        var lexer = new Lexer(html);
        string? error = null;
        while (true)
        {
            Token? token = lexer.Next();
            if (token is null)
            {
                if (lexer.Error is not null && found.Count == 0)
                {
                    error = lexer.Error;
                }

                break;
            }

            if (token.Kind == TokenKind.Start && EqualsIgnoreCase(token.Name, "body"))
            {
                break;
            }

            if (token.Kind == TokenKind.End && EqualsIgnoreCase(token.Name, "head"))
            {
                break;
            }

            if (token.Kind != TokenKind.Start || !EqualsIgnoreCase(token.Name, "meta"))
            {
                continue;
            }

            if (AttributeValue(token, "name") != "go-import")
            {
                continue;
            }

            string[] fields = SplitFields(AttributeValue(token, "content"));
            if (fields.Length == 3)
            {
                found.Add(new MetaImport(fields[0], fields[1], fields[2]));
            }
        }

        return new MetaImportParse(Order(found, preferMod), error);
    }

    /// <summary>matchGoImport: the one import whose prefix is a path-element prefix of importPath. A mod entry (listed
    /// first by <see cref="Parse"/>) wins over later non-mod matches; two matches otherwise are an error.</summary>
    /// <returns>The match, or null with the go command's error text. noneMatched is true when no tag matched at all
    /// (the go command's ImportMismatchError).</returns>
    public static (MetaImport? Match, string? Error, bool NoneMatched) Match(IReadOnlyList<MetaImport> imports, string importPath)
    {
        ArgumentNullException.ThrowIfNull(imports);
        ArgumentNullException.ThrowIfNull(importPath);
        int match = -1;
        var mismatches = new List<string>();
        for (int i = 0; i < imports.Count; i++)
        {
            MetaImport candidate = imports[i];
            if (!HasPathPrefix(importPath, candidate.Prefix))
            {
                mismatches.Add(candidate.Prefix);
                continue;
            }

            if (match >= 0)
            {
                if (imports[match].Vcs == "mod" && candidate.Vcs != "mod")
                {
                    // Mod entries come first; once one matched, the rest do not matter.
                    break;
                }

                return (null, $"multiple meta tags match import path {Quote(importPath)}", false);
            }

            match = i;
        }

        if (match < 0)
        {
            string detail = string.Join(", ", mismatches.Select(p => $"meta tag {p} did not match import path {importPath}"));
            return (null, detail, true);
        }

        return (imports[match], null, false);
    }

    /// <summary>str.HasPathPrefix: whether prefix is s or a leading run of whole path elements of s.</summary>
    public static bool HasPathPrefix(string s, string prefix)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(prefix);
        if (s.Length == prefix.Length)
        {
            return s == prefix;
        }

        if (prefix.Length == 0)
        {
            return true;
        }

        if (s.Length > prefix.Length && (prefix[^1] == '/' || s[prefix.Length] == '/'))
        {
            return s.StartsWith(prefix, StringComparison.Ordinal);
        }

        return false;
    }

    /// <summary>strconv.Quote (fmt's %q) for the strings that appear in messages.</summary>
    internal static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (Rune r in s.EnumerateRunes())
        {
            switch (r.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (r.Value < 0x20 || r.Value == 0x7f)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{r.Value:x2}");
                    }
                    else if (Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                        or UnicodeCategory.ParagraphSeparator)
                    {
                        sb.Append(r.IsBmp
                            ? string.Create(CultureInfo.InvariantCulture, $"\\u{r.Value:x4}")
                            : string.Create(CultureInfo.InvariantCulture, $"\\U{r.Value:x8}"));
                    }
                    else
                    {
                        sb.Append(r.ToString());
                    }

                    break;
            }
        }

        sb.Append('"');
        return sb.ToString();
    }

    private static List<MetaImport> Order(List<MetaImport> found, bool preferMod)
    {
        var list = new List<MetaImport>(found.Count);
        var haveMod = new HashSet<string>(StringComparer.Ordinal);
        if (preferMod)
        {
            foreach (MetaImport m in found.Where(m => m.Vcs == "mod"))
            {
                haveMod.Add(m.Prefix);
                list.Add(m);
            }
        }

        list.AddRange(found.Where(m => m.Vcs != "mod" && !haveMod.Contains(m.Prefix)));
        return list;
    }

    private static bool EqualsIgnoreCase(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static string AttributeValue(Token token, string name)
    {
        foreach ((string key, string value) in token.Attributes)
        {
            if (EqualsIgnoreCase(key, name))
            {
                return value;
            }
        }

        return "";
    }

    /// <summary>strings.Fields: split around runs of Unicode white space.</summary>
    private static string[] SplitFields(string s)
    {
        var fields = new List<string>();
        int start = -1;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsWhiteSpace(s[i]))
            {
                if (start >= 0)
                {
                    fields.Add(s[start..i]);
                    start = -1;
                }
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        if (start >= 0)
        {
            fields.Add(s[start..]);
        }

        return [.. fields];
    }

    private enum TokenKind
    {
        Start,
        End,
        Other,
    }

    private sealed record Token(TokenKind Kind, string Name, IReadOnlyList<(string Name, string Value)> Attributes)
    {
        public static readonly Token OtherToken = new(TokenKind.Other, "", []);
    }

    /// <summary>A byte-level reading of encoding/xml's non-strict RawToken: enough to walk an HTML head the same way,
    /// including where it gives up.</summary>
    private ref struct Lexer
    {
        private readonly ReadOnlySpan<byte> input;
        private int pos;
        private bool pendingEnd;
        private string pendingEndName;

        public Lexer(ReadOnlySpan<byte> input)
        {
            this.input = input;
            pos = 0;
            pendingEnd = false;
            pendingEndName = "";
            Error = null;
        }

        /// <summary>Why reading stopped before the end of the input, if it did.</summary>
        public string? Error { get; private set; }

        public Token? Next()
        {
            if (Error is not null)
            {
                return null;
            }

            if (pendingEnd)
            {
                pendingEnd = false;
                return new Token(TokenKind.End, pendingEndName, []);
            }

            if (pos >= input.Length)
            {
                return null;
            }

            if (input[pos] != '<')
            {
                return Text(-1, cdata: false) is null ? null : Token.OtherToken;
            }

            pos++;
            if (!MustGet(out byte b))
            {
                return null;
            }

            switch (b)
            {
                case (byte)'/':
                    {
                        string? name = NsName();
                        if (name is null)
                        {
                            return Fail("expected element name after </");
                        }

                        SkipSpace();
                        if (!MustGet(out b))
                        {
                            return null;
                        }

                        return b != '>' ? Fail($"invalid characters between </{name} and >") : new Token(TokenKind.End, name, []);
                    }

                case (byte)'?':
                    return ProcessingInstruction();

                case (byte)'!':
                    return Bang();

                default:
                    pos--;
                    return StartElement();
            }
        }

        /// <summary>Records a syntax error the way encoding/xml words it ("XML syntax error on line N: ...").</summary>
        private Token? Fail(string message)
        {
            if (Error is null)
            {
                int line = 1 + input[..Math.Min(pos, input.Length)].Count((byte)'\n');
                Error = $"XML syntax error on line {line}: {message}";
            }

            return null;
        }

        private Token? FailPlain(string message)
        {
            Error ??= message;
            return null;
        }

        private bool MustGet(out byte b)
        {
            if (pos >= input.Length)
            {
                b = 0;
                Fail("unexpected EOF");
                return false;
            }

            b = input[pos++];
            return true;
        }

        private void SkipSpace()
        {
            while (pos < input.Length && input[pos] is (byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'\t')
            {
                pos++;
            }
        }

        private static bool IsNameByte(byte c) =>
            c is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'_' or (byte)':' or (byte)'.' or (byte)'-';

        /// <summary>readName: a run of name bytes (any byte of a multi-byte sequence counts); null if there is none.
        /// Running out of input while reading is an error.</summary>
        private ReadOnlySpan<byte> ReadName(out bool ok)
        {
            int start = pos;
            if (!MustGet(out byte b))
            {
                ok = false;
                return default;
            }

            if (b < 0x80 && !IsNameByte(b))
            {
                pos--;
                ok = false;
                return default;
            }

            while (true)
            {
                if (!MustGet(out b))
                {
                    ok = false;
                    return default;
                }

                if (b < 0x80 && !IsNameByte(b))
                {
                    pos--;
                    break;
                }
            }

            ok = true;
            return input[start..pos];
        }

        /// <summary>name(): a checked XML name, or null (with Error set when the name is malformed).</summary>
        private string? Name()
        {
            ReadOnlySpan<byte> raw = ReadName(out bool ok);
            if (!ok)
            {
                return null;
            }

            if (!IsXmlName(raw))
            {
                Fail("invalid XML name: " + Encoding.UTF8.GetString(raw));
                return null;
            }

            return Encoding.UTF8.GetString(raw);
        }

        /// <summary>nsname(): the local part of "space:local" (a name with more colons, or an empty side, stays whole).</summary>
        private string? NsName()
        {
            string? s = Name();
            if (s is null)
            {
                return null;
            }

            int colon = s.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == s.Length - 1 || s.IndexOf(':', colon + 1) >= 0)
            {
                return s;
            }

            return s[(colon + 1)..];
        }

        private Token? StartElement()
        {
            string? name = NsName();
            if (name is null)
            {
                return Fail("expected element name after <");
            }

            var attributes = new List<(string, string)>();
            while (true)
            {
                SkipSpace();
                if (!MustGet(out byte b))
                {
                    return null;
                }

                if (b == '/')
                {
                    if (!MustGet(out b))
                    {
                        return null;
                    }

                    if (b != '>')
                    {
                        return Fail("expected /> in element");
                    }

                    pendingEnd = true;
                    pendingEndName = name;
                    break;
                }

                if (b == '>')
                {
                    break;
                }

                pos--;
                string? attrName = NsName();
                if (attrName is null)
                {
                    return Fail("expected attribute name in element");
                }

                SkipSpace();
                if (!MustGet(out b))
                {
                    return null;
                }

                if (b != '=')
                {
                    // Non-strict: an attribute without a value takes its own name as the value.
                    pos--;
                    attributes.Add((attrName, attrName));
                    continue;
                }

                SkipSpace();
                string? value = AttributeValue();
                if (value is null)
                {
                    return null;
                }

                attributes.Add((attrName, value));
            }

            return new Token(TokenKind.Start, name, attributes);
        }

        private string? AttributeValue()
        {
            if (!MustGet(out byte b))
            {
                return null;
            }

            if (b is (byte)'"' or (byte)'\'')
            {
                return Text(b, cdata: false);
            }

            // Unquoted values (non-strict): letters, digits, '_', ':' and '-' only.
            pos--;
            int start = pos;
            while (true)
            {
                if (!MustGet(out b))
                {
                    return null;
                }

                if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                        or (byte)'_' or (byte)':' or (byte)'-'))
                {
                    pos--;
                    break;
                }
            }

            return Encoding.ASCII.GetString(input[start..pos]);
        }

        private Token? ProcessingInstruction()
        {
            string? target = Name();
            if (target is null)
            {
                return Fail("expected target name after <?");
            }

            SkipSpace();
            int start = pos;
            byte previous = 0;
            while (true)
            {
                if (!MustGet(out byte b))
                {
                    return null;
                }

                if (previous == '?' && b == '>')
                {
                    break;
                }

                previous = b;
            }

            if (target == "xml")
            {
                string content = Encoding.UTF8.GetString(input[start..(pos - 2)]);
                string version = ProcInstParam("version", content);
                if (version.Length > 0 && version != "1.0")
                {
                    return FailPlain($"xml: unsupported version {Quote(version)}; only version 1.0 is supported");
                }

                string encoding = ProcInstParam("encoding", content);
                if (encoding.Length > 0 && !encoding.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                    && !encoding.Equals("ascii", StringComparison.OrdinalIgnoreCase))
                {
                    return FailPlain($"xml: opening charset {Quote(encoding)}: can't decode XML document using charset {Quote(encoding)}");
                }
            }

            return Token.OtherToken;
        }

        private static string ProcInstParam(string param, string s)
        {
            int at = s.IndexOf(param + "=", StringComparison.Ordinal);
            if (at < 0)
            {
                return "";
            }

            string v = s[(at + param.Length + 1)..];
            if (v.Length == 0 || (v[0] != '\'' && v[0] != '"'))
            {
                return "";
            }

            int end = v.IndexOf(v[0], 1);
            return end < 0 ? "" : v[1..end];
        }

        private Token? Bang()
        {
            if (!MustGet(out byte b))
            {
                return null;
            }

            if (b == '-')
            {
                if (!MustGet(out b))
                {
                    return null;
                }

                if (b != '-')
                {
                    return Fail("invalid sequence <!- not part of <!--");
                }

                byte b0 = 0, b1 = 0;
                while (true)
                {
                    if (!MustGet(out b))
                    {
                        return null;
                    }

                    if (b0 == '-' && b1 == '-')
                    {
                        return b != '>' ? Fail("invalid sequence \"--\" not allowed in comments") : Token.OtherToken;
                    }

                    b0 = b1;
                    b1 = b;
                }
            }

            if (b == '[')
            {
                foreach (byte expected in "CDATA["u8)
                {
                    if (!MustGet(out b))
                    {
                        return null;
                    }

                    if (b != expected)
                    {
                        return Fail("invalid <![ sequence");
                    }
                }

                return Text(-1, cdata: true) is null ? null : Token.OtherToken;
            }

            return Directive();
        }

        /// <summary>A directive such as &lt;!DOCTYPE html&gt;: up to the matching '&gt;', with quotes, nested
        /// brackets and embedded comments skipped.</summary>
        private Token? Directive()
        {
            byte quote = 0;
            int depth = 0;
            while (true)
            {
                if (!MustGet(out byte b))
                {
                    return null;
                }

                if (quote == 0 && b == '>' && depth == 0)
                {
                    return Token.OtherToken;
                }

                if (b == quote)
                {
                    quote = 0;
                }
                else if (quote != 0)
                {
                }
                else if (b is (byte)'\'' or (byte)'"')
                {
                    quote = b;
                }
                else if (b == '>')
                {
                    depth--;
                }
                else if (b == '<')
                {
                    bool comment = true;
                    foreach (byte expected in "!--"u8)
                    {
                        if (!MustGet(out b))
                        {
                            return null;
                        }

                        if (b != expected)
                        {
                            // Not a comment: this '<' opens a nested declaration; look at b again.
                            pos--;
                            depth++;
                            comment = false;
                            break;
                        }
                    }

                    if (comment)
                    {
                        byte b0 = 0, b1 = 0;
                        while (true)
                        {
                            if (!MustGet(out b))
                            {
                                return null;
                            }

                            if (b0 == '-' && b1 == '-' && b == '>')
                            {
                                break;
                            }

                            b0 = b1;
                            b1 = b;
                        }
                    }
                }
            }
        }

        /// <summary>Character data up to '&lt;' (quote &lt; 0), the closing quote, or "]]&gt;" (cdata), with
        /// entities decoded and line ends normalised; null on a syntax error.</summary>
        private string? Text(int quote, bool cdata)
        {
            var buf = new List<byte>();
            byte b0 = 0, b1 = 0;
            int trunc = 0;
            while (true)
            {
                if (pos >= input.Length)
                {
                    if (cdata)
                    {
                        Fail("unexpected EOF in CDATA section");
                        return null;
                    }

                    if (quote >= 0)
                    {
                        // A quoted value must be closed (the next read reports EOF).
                        Fail("unexpected EOF");
                        return null;
                    }

                    break;
                }

                byte b = input[pos++];
                if (b0 == ']' && b1 == ']' && b == '>')
                {
                    if (cdata)
                    {
                        trunc = 2;
                        break;
                    }

                    Fail("unescaped ]]> not in CDATA section");
                    return null;
                }

                if (b == '<' && !cdata)
                {
                    if (quote >= 0)
                    {
                        Fail("unescaped < inside quoted string");
                        return null;
                    }

                    pos--;
                    break;
                }

                if (quote >= 0 && b == quote)
                {
                    break;
                }

                if (b == '&' && !cdata)
                {
                    if (!Entity(buf))
                    {
                        return null;
                    }

                    b0 = 0;
                    b1 = 0;
                    continue;
                }

                if (b == '\r')
                {
                    buf.Add((byte)'\n');
                }
                else if (!(b1 == '\r' && b == '\n'))
                {
                    buf.Add(b);
                }

                b0 = b1;
                b1 = b;
            }

            byte[] data = [.. buf];
            ReadOnlySpan<byte> span = data.AsSpan(0, data.Length - trunc);
            string? text = CheckCharacters(span);
            return text;
        }

        /// <summary>After '&amp;': appends the decoded reference, or the text as written when it is not a known
        /// entity (non-strict). False only when the input ends.</summary>
        private bool Entity(List<byte> buf)
        {
            int before = buf.Count;
            buf.Add((byte)'&');
            if (!MustGet(out byte b))
            {
                return false;
            }

            string? replacement = null;
            if (b == '#')
            {
                buf.Add(b);
                if (!MustGet(out b))
                {
                    return false;
                }

                int numberBase = 10;
                if (b == 'x')
                {
                    numberBase = 16;
                    buf.Add(b);
                    if (!MustGet(out b))
                    {
                        return false;
                    }
                }

                int digitsStart = buf.Count;
                while (b is >= (byte)'0' and <= (byte)'9' || (numberBase == 16 && b is >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F'))
                {
                    buf.Add(b);
                    if (!MustGet(out b))
                    {
                        return false;
                    }
                }

                if (b != ';')
                {
                    pos--;
                }
                else
                {
                    string digits = Encoding.ASCII.GetString([.. buf.GetRange(digitsStart, buf.Count - digitsStart)]);
                    buf.Add(b);
                    NumberStyles style = numberBase == 16 ? NumberStyles.AllowHexSpecifier : NumberStyles.None;
                    if (ulong.TryParse(digits, style, CultureInfo.InvariantCulture, out ulong n) && n <= 0x10FFFF)
                    {
                        // Go's string(rune(n)) turns surrogates into U+FFFD.
                        replacement = n is >= 0xD800 and <= 0xDFFF ? "\uFFFD" : char.ConvertFromUtf32((int)n);
                    }
                }
            }
            else
            {
                pos--;
                ReadOnlySpan<byte> name = ReadName(out bool ok);
                if (!ok && Error is not null)
                {
                    return false;
                }

                if (ok)
                {
                    buf.AddRange(name);
                }

                if (!MustGet(out b))
                {
                    return false;
                }

                if (b != ';')
                {
                    pos--;
                }
                else
                {
                    buf.Add(b);
                    if (ok && IsXmlName(name))
                    {
                        replacement = Encoding.UTF8.GetString(name) switch
                        {
                            "lt" => "<",
                            "gt" => ">",
                            "amp" => "&",
                            "apos" => "'",
                            "quot" => "\"",
                            _ => null,
                        };
                    }
                }
            }

            if (replacement is not null)
            {
                buf.RemoveRange(before, buf.Count - before);
                buf.AddRange(Encoding.UTF8.GetBytes(replacement));
            }

            return true;
        }

        private string? CheckCharacters(ReadOnlySpan<byte> data)
        {
            var sb = new StringBuilder(data.Length);
            while (!data.IsEmpty)
            {
                if (Rune.DecodeFromUtf8(data, out Rune r, out int used) != System.Buffers.OperationStatus.Done)
                {
                    Fail("invalid UTF-8");
                    return null;
                }

                int c = r.Value;
                if (!(c is 0x09 or 0x0A or 0x0D || c is >= 0x20 and <= 0xD7FF || c is >= 0xE000 and <= 0xFFFD || c >= 0x10000))
                {
                    Fail($"illegal character code U+{c:X4}");
                    return null;
                }

                sb.Append(r.ToString());
                data = data[used..];
            }

            return sb.ToString();
        }

        /// <summary>isName: a letter, '_' or ':' first, then also digits, '.', '-', combining marks and extenders.</summary>
        private static bool IsXmlName(ReadOnlySpan<byte> raw)
        {
            if (raw.IsEmpty)
            {
                return false;
            }

            bool first = true;
            while (!raw.IsEmpty)
            {
                if (Rune.DecodeFromUtf8(raw, out Rune r, out int used) != System.Buffers.OperationStatus.Done)
                {
                    return false;
                }

                bool isFirst = Rune.IsLetter(r) || r.Value is '_' or ':'
                    || Rune.GetUnicodeCategory(r) == UnicodeCategory.LetterNumber;
                bool isSecond = Rune.IsDigit(r) || r.Value is '-' or '.' or 0xB7
                    || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                        or UnicodeCategory.EnclosingMark or UnicodeCategory.ModifierLetter;
                if (!(isFirst || (!first && isSecond)))
                {
                    return false;
                }

                first = false;
                raw = raw[used..];
            }

            return true;
        }
    }
}
