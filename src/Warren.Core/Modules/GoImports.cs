using System.Text;

namespace Warren.Core.Modules;

/// <summary>The package clause and import declarations at the top of a Go source file.</summary>
/// <param name="Package">The package name, or null when the file has no package clause that reads.</param>
/// <param name="Imports">The import paths in the order written (duplicates kept).</param>
public sealed record GoFileImports(string? Package, IReadOnlyList<string> Imports);

/// <summary>
/// Reads the header of a Go source file the way the go/parser's ImportsOnly mode does: the package clause, then the
/// import declarations (single, grouped, named, blank and dot imports; interpreted and raw string literals; comments
/// anywhere), stopping at the first declaration that is not an import. It is a reader of imports only, not a parser:
/// anything it does not understand ends the header. Build constraints are not evaluated.
/// </summary>
public static class GoImports
{
    /// <summary>How much of a file is read at most: the header of any real Go file is far smaller.</summary>
    public const int MaxHeaderChars = 1024 * 1024;

    /// <summary>The header of one source text.</summary>
    public static GoFileImports Read(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var lexer = new Lexer(source.Length > MaxHeaderChars ? source[..MaxHeaderChars] : source);
        var imports = new List<string>();
        if (lexer.Next() is not { Kind: TokenKind.Ident, Text: "package" } || lexer.Next() is not { Kind: TokenKind.Ident } name)
        {
            return new GoFileImports(null, imports);
        }

        var token = lexer.Next();
        while (true)
        {
            while (token.Kind == TokenKind.Semicolon)
            {
                token = lexer.Next();
            }

            if (token is not { Kind: TokenKind.Ident, Text: "import" })
            {
                break;
            }

            token = lexer.Next();
            if (token.Kind == TokenKind.LParen)
            {
                token = lexer.Next();
                while (true)
                {
                    while (token.Kind == TokenKind.Semicolon)
                    {
                        token = lexer.Next();
                    }

                    if (token.Kind != TokenKind.String && token.Kind != TokenKind.Ident && token.Kind != TokenKind.Dot)
                    {
                        break;
                    }

                    if (!ReadSpec(lexer, ref token, imports))
                    {
                        return new GoFileImports(name.Text, imports);
                    }
                }

                if (token.Kind != TokenKind.RParen)
                {
                    break;
                }

                token = lexer.Next();
            }
            else if (!ReadSpec(lexer, ref token, imports))
            {
                break;
            }
        }

        return new GoFileImports(name.Text, imports);
    }

    /// <summary>The header of a file on disk (read as UTF-8, at most <see cref="MaxHeaderChars"/> characters).</summary>
    public static async Task<GoFileImports> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 16 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[Math.Min(MaxHeaderChars, Math.Max(1, (int)Math.Min(int.MaxValue, stream.Length)))];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false)) > 0)
            {
                read += n;
            }

            return Read(new string(buffer, 0, read));
        }
    }

    /// <summary>[name | _ | .] "path"; leaves <paramref name="token"/> on the token after the spec.</summary>
    private static bool ReadSpec(Lexer lexer, ref Token token, List<string> imports)
    {
        if (token.Kind is TokenKind.Ident or TokenKind.Dot)
        {
            token = lexer.Next();
        }

        if (token.Kind != TokenKind.String || token.Text.Length == 0)
        {
            return false;
        }

        imports.Add(token.Text);
        token = lexer.Next();
        return true;
    }

    private enum TokenKind
    {
        Eof,
        Ident,
        String,
        LParen,
        RParen,
        Dot,
        Semicolon,
        Other,
    }

    private readonly record struct Token(TokenKind Kind, string Text);

    /// <summary>The few Go tokens an import header has. A newline after an identifier, a string or ')' is an automatic
    /// semicolon, as in the Go specification.</summary>
    private sealed class Lexer(string text)
    {
        private int _pos;
        private bool _semicolonAtNewline;

        public Token Next()
        {
            while (_pos < text.Length)
            {
                char c = text[_pos];
                if (c == '\n')
                {
                    _pos++;
                    if (_semicolonAtNewline)
                    {
                        _semicolonAtNewline = false;
                        return new Token(TokenKind.Semicolon, "\n");
                    }

                    continue;
                }

                if (c is ' ' or '\t' or '\r' or '\uFEFF')
                {
                    _pos++;
                    continue;
                }

                if (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '/')
                {
                    int end = text.IndexOf('\n', _pos);
                    _pos = end < 0 ? text.Length : end;
                    continue;
                }

                if (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '*')
                {
                    int end = text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        _pos = text.Length;
                        return new Token(TokenKind.Eof, "");
                    }

                    bool newline = text.AsSpan(_pos, end - _pos).Contains('\n');
                    _pos = end + 2;
                    if (newline && _semicolonAtNewline)
                    {
                        _semicolonAtNewline = false;
                        return new Token(TokenKind.Semicolon, "\n");
                    }

                    continue;
                }

                break;
            }

            if (_pos >= text.Length)
            {
                if (_semicolonAtNewline)
                {
                    _semicolonAtNewline = false;
                    return new Token(TokenKind.Semicolon, "");
                }

                return new Token(TokenKind.Eof, "");
            }

            char ch = text[_pos];
            if (char.IsLetter(ch) || ch == '_')
            {
                int start = _pos;
                while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_'))
                {
                    _pos++;
                }

                _semicolonAtNewline = true;
                return new Token(TokenKind.Ident, text[start.._pos]);
            }

            _semicolonAtNewline = false;
            switch (ch)
            {
                case '"':
                    return Interpreted();
                case '`':
                    return Raw();
                case '(':
                    _pos++;
                    return new Token(TokenKind.LParen, "(");
                case ')':
                    _pos++;
                    _semicolonAtNewline = true;
                    return new Token(TokenKind.RParen, ")");
                case '.':
                    _pos++;
                    return new Token(TokenKind.Dot, ".");
                case ';':
                    _pos++;
                    return new Token(TokenKind.Semicolon, ";");
                default:
                    _pos++;
                    return new Token(TokenKind.Other, ch.ToString());
            }
        }

        private Token Interpreted()
        {
            int start = _pos;
            _pos++;
            while (_pos < text.Length && text[_pos] != '"' && text[_pos] != '\n')
            {
                _pos += text[_pos] == '\\' && _pos + 1 < text.Length ? 2 : 1;
            }

            if (_pos >= text.Length || text[_pos] != '"')
            {
                return new Token(TokenKind.Other, "");
            }

            _pos++;
            _semicolonAtNewline = true;
            return GoQuoting.TryUnquote(text[start.._pos], out string value) ? new Token(TokenKind.String, value) : new Token(TokenKind.Other, "");
        }

        private Token Raw()
        {
            int end = text.IndexOf('`', _pos + 1);
            if (end < 0)
            {
                _pos = text.Length;
                return new Token(TokenKind.Other, "");
            }

            // Carriage returns are discarded from raw strings.
            string value = text[(_pos + 1)..end].Replace("\r", "", StringComparison.Ordinal);
            _pos = end + 1;
            _semicolonAtNewline = true;
            return new Token(TokenKind.String, value);
        }
    }
}
