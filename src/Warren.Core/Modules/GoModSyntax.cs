using System.Text;

namespace Warren.Core.Modules;

/// <summary>A position in go.mod text: 1-based line, 1-based rune column, 0-based UTF-16 offset.</summary>
internal readonly record struct GoModPosition(int Line, int LineRune, int Offset)
{
    public static GoModPosition Start => new(1, 1, 0);

    /// <summary>The position just after <paramref name="s"/>, if s starts here.</summary>
    public GoModPosition Advance(string s)
    {
        int line = Line;
        int lineRune = LineRune;
        int lastNewline = s.LastIndexOf('\n');
        string tail = s;
        if (lastNewline >= 0)
        {
            line += s.AsSpan().Count('\n');
            lineRune = 1;
            tail = s[(lastNewline + 1)..];
        }

        return new GoModPosition(line, lineRune + RuneCount(tail), Offset + s.Length);
    }

    internal static int RuneCount(string s)
    {
        int n = 0;
        foreach (Rune _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }
}

/// <summary>One // comment. Token excludes the trailing newline; an empty Token records a blank line inside a block.</summary>
internal readonly record struct GoModComment(GoModPosition Start, string Token, bool Suffix);

/// <summary>A node of the go.mod syntax tree with the comments attached to it.</summary>
internal abstract class GoModExpr
{
    /// <summary>Whole-line comments before the node.</summary>
    public List<GoModComment> Before { get; set; } = [];

    /// <summary>End-of-line comments after the node.</summary>
    public List<GoModComment> Suffix { get; } = [];

    public abstract GoModPosition SpanStart { get; }

    public abstract GoModPosition SpanEnd { get; }
}

internal sealed class GoModFileSyntax : GoModExpr
{
    public List<GoModExpr> Statements { get; } = [];

    public override GoModPosition SpanStart => Statements.Count == 0 ? default : Statements[0].SpanStart;

    public override GoModPosition SpanEnd => Statements.Count == 0 ? default : Statements[^1].SpanEnd;
}

/// <summary>A top-level run of comments not attached to a statement.</summary>
internal sealed class GoModCommentBlock(GoModPosition start) : GoModExpr
{
    public override GoModPosition SpanStart => start;

    public override GoModPosition SpanEnd => start;
}

/// <summary>A single line of tokens, at top level or inside a block (then without the block's verb).</summary>
internal sealed class GoModLine(GoModPosition start, List<string> tokens, GoModPosition end, bool inBlock) : GoModExpr
{
    public List<string> Tokens { get; } = tokens;

    public bool InBlock { get; } = inBlock;

    public override GoModPosition SpanStart => start;

    public override GoModPosition SpanEnd => end;
}

/// <summary>The position of a block's '(' or ')', a place to hang comments.</summary>
internal sealed class GoModParen(GoModPosition pos) : GoModExpr
{
    public GoModPosition Pos { get; set; } = pos;

    public override GoModPosition SpanStart => Pos;

    public override GoModPosition SpanEnd => Pos.Advance(")");
}

/// <summary>A factored block: <c>verb ( lines )</c>.</summary>
internal sealed class GoModLineBlock(GoModPosition start, List<string> tokens, GoModPosition lparen) : GoModExpr
{
    public List<string> Tokens { get; } = tokens;

    public GoModParen LParen { get; } = new(lparen);

    public List<GoModLine> Lines { get; } = [];

    public GoModParen RParen { get; } = new(default);

    public override GoModPosition SpanStart => start;

    public override GoModPosition SpanEnd => RParen.Pos.Advance(")");
}

/// <summary>The go.mod lexer and grammar (modfile's read.go): lines, blocks and comments, without any meaning attached.</summary>
internal sealed class GoModSyntaxReader
{
    private enum Kind
    {
        Eof,
        EolComment,
        Comment,
        Ident,
        String,
        Newline,
        LParen,
        RParen,
        LBracket,
        RBracket,
        LBrace,
        RBrace,
        Comma,
    }

    private readonly record struct Token(Kind Kind, GoModPosition Pos, GoModPosition EndPos, string Text)
    {
        public bool IsEol => Kind is Kind.Eof or Kind.EolComment or Kind.Newline;
    }

    private readonly string _fileName;
    private readonly string _text;
    private int _index;
    private GoModPosition _pos = GoModPosition.Start;
    private int _tokenStartIndex;
    private GoModPosition _tokenStartPos;
    private Token _next;
    private readonly List<GoModComment> _suffixComments = [];
    private readonly GoModFileSyntax _file = new();

    private GoModSyntaxReader(string fileName, string text)
    {
        _fileName = fileName;
        _text = text;
    }

    /// <summary>Parses text into a syntax tree; throws <see cref="GoModParseException"/> on a lexical or block error.</summary>
    public static GoModFileSyntax Read(string fileName, string text)
    {
        var reader = new GoModSyntaxReader(fileName, text);
        reader.ReadToken();
        reader.ParseFile();
        reader.AssignComments();
        return reader._file;
    }

    private GoModParseException Error(string message) =>
        new([new GoModError(_fileName, _pos.Line, _pos.LineRune, message)]);

    // ---- lexer ----

    private bool AtEof => _index >= _text.Length;

    private int PeekRune()
    {
        if (AtEof)
        {
            return 0;
        }

        Rune.DecodeFromUtf16(_text.AsSpan(_index), out Rune r, out _);
        return r.Value;
    }

    private bool PeekPrefix(string prefix) => _text.AsSpan(_index).StartsWith(prefix, StringComparison.Ordinal);

    private int ReadRune()
    {
        Rune.DecodeFromUtf16(_text.AsSpan(_index), out Rune r, out int used);
        _index += used;
        _pos = r.Value == '\n'
            ? new GoModPosition(_pos.Line + 1, 1, _pos.Offset + used)
            : _pos with { LineRune = _pos.LineRune + 1, Offset = _pos.Offset + used };
        return r.Value;
    }

    private void StartToken()
    {
        _tokenStartIndex = _index;
        _tokenStartPos = _pos;
    }

    private void EndToken(Kind kind)
    {
        string text = _text[_tokenStartIndex.._index];
        if (kind is Kind.Comment or Kind.EolComment)
        {
            if (text.EndsWith("\r\n", StringComparison.Ordinal))
            {
                text = text[..^2];
            }
            else if (text.EndsWith('\n'))
            {
                text = text[..^1];
            }
        }

        _next = new Token(kind, _tokenStartPos, _pos, text);
    }

    private Token Lex()
    {
        Token t = _next;
        ReadToken();
        return t;
    }

    private void ReadToken()
    {
        while (!AtEof)
        {
            int c = PeekRune();
            if (c is ' ' or '\t' or '\r')
            {
                ReadRune();
                continue;
            }

            if (PeekPrefix("//"))
            {
                StartToken();

                // A comment is a suffix comment unless it is the only thing on its line.
                int lineStart = _index == 0 ? 0 : _text.LastIndexOf('\n', _index - 1) + 1;

                bool suffix = !_text.AsSpan(lineStart, _index - lineStart).Trim().IsEmpty;
                ReadRune();
                ReadRune();
                while (!AtEof && ReadRune() != '\n')
                {
                }

                if (!suffix)
                {
                    EndToken(Kind.Comment);
                    return;
                }

                EndToken(Kind.EolComment);
                _suffixComments.Add(new GoModComment(_next.Pos, _next.Text, true));
                return;
            }

            if (PeekPrefix("/*"))
            {
                throw Error("mod files must use // comments (not /* */ comments)");
            }

            break;
        }

        StartToken();
        if (AtEof)
        {
            EndToken(Kind.Eof);
            return;
        }

        int first = PeekRune();
        Kind? punct = first switch
        {
            '\n' => Kind.Newline,
            '(' => Kind.LParen,
            ')' => Kind.RParen,
            '[' => Kind.LBracket,
            ']' => Kind.RBracket,
            '{' => Kind.LBrace,
            '}' => Kind.RBrace,
            ',' => Kind.Comma,
            _ => null,
        };
        if (punct is { } kind)
        {
            ReadRune();
            EndToken(kind);
            return;
        }

        if (first is '"' or '`')
        {
            ReadQuoted(first);
            return;
        }

        if (!IsIdent(first))
        {
            throw Error("unexpected input character " + GoQuoting.QuoteRune(first));
        }

        while (IsIdent(PeekRune()))
        {
            if (PeekPrefix("//"))
            {
                break;
            }

            if (PeekPrefix("/*"))
            {
                throw Error("mod files must use // comments (not /* */ comments)");
            }

            ReadRune();
        }

        EndToken(Kind.Ident);
    }

    private void ReadQuoted(int quote)
    {
        ReadRune();
        while (true)
        {
            if (AtEof)
            {
                _pos = _tokenStartPos;
                throw Error("unexpected EOF in string");
            }

            if (PeekRune() == '\n')
            {
                throw Error("unexpected newline in string");
            }

            int c = ReadRune();
            if (c == quote)
            {
                break;
            }

            if (c == '\\' && quote != '`')
            {
                if (AtEof)
                {
                    _pos = _tokenStartPos;
                    throw Error("unexpected EOF in string");
                }

                ReadRune();
            }
        }

        EndToken(Kind.String);
    }

    /// <summary>Identifier runes: printable, not space, not one of the punctuation characters.</summary>
    private static bool IsIdent(int c)
    {
        if (c is ' ' or '(' or ')' or '[' or ']' or '{' or '}' or ',')
        {
            return false;
        }

        if (!Rune.IsValid(c))
        {
            return false;
        }

        var r = new Rune(c);
        return !GoQuoting.IsSpace(r) && GoQuoting.IsPrint(r);
    }

    // ---- grammar ----

    private void ParseFile()
    {
        GoModCommentBlock? pending = null;
        while (true)
        {
            switch (_next.Kind)
            {
                case Kind.Newline:
                    Lex();
                    if (pending is not null)
                    {
                        _file.Statements.Add(pending);
                        pending = null;
                    }

                    break;

                case Kind.Comment:
                {
                    Token t = Lex();
                    pending ??= new GoModCommentBlock(t.Pos);
                    pending.Before.Add(new GoModComment(t.Pos, t.Text, false));
                    break;
                }

                case Kind.Eof:
                    if (pending is not null)
                    {
                        _file.Statements.Add(pending);
                    }

                    return;

                default:
                    ParseStatement();
                    if (pending is not null)
                    {
                        _file.Statements[^1].Before = pending.Before;
                        pending = null;
                    }

                    break;
            }
        }
    }

    private void ParseStatement()
    {
        Token first = Lex();
        GoModPosition start = first.Pos;
        GoModPosition end = first.EndPos;
        var tokens = new List<string> { first.Text };
        while (true)
        {
            Token t = Lex();
            if (t.IsEol)
            {
                _file.Statements.Add(new GoModLine(start, tokens, end, inBlock: false));
                return;
            }

            if (t.Kind == Kind.LParen)
            {
                if (IsEolKind(_next.Kind))
                {
                    // Start of a block: nothing more on this line.
                    _file.Statements.Add(ParseLineBlock(start, tokens, t));
                    return;
                }

                if (_next.Kind == Kind.RParen)
                {
                    Token rparen = Lex();
                    if (IsEolKind(_next.Kind))
                    {
                        // An empty block.
                        Lex();
                        var empty = new GoModLineBlock(start, tokens, t.Pos);
                        empty.RParen.Pos = rparen.Pos;
                        _file.Statements.Add(empty);
                        return;
                    }

                    // "( )" in the middle of a line is not a block.
                    tokens.Add(t.Text);
                    tokens.Add(rparen.Text);
                }
                else
                {
                    // "(" in the middle of a line is not a block.
                    tokens.Add(t.Text);
                }

                continue;
            }

            tokens.Add(t.Text);
            end = t.EndPos;
        }
    }

    private static bool IsEolKind(Kind k) => k is Kind.Eof or Kind.EolComment or Kind.Newline;

    private GoModLineBlock ParseLineBlock(GoModPosition start, List<string> tokens, Token lparen)
    {
        var block = new GoModLineBlock(start, tokens, lparen.Pos);
        var comments = new List<GoModComment>();
        while (true)
        {
            switch (_next.Kind)
            {
                case Kind.EolComment:
                    // Attached later by AssignComments.
                    Lex();
                    break;

                case Kind.Newline:
                    // A blank line; remember it with an empty comment.
                    Lex();
                    if ((comments.Count == 0 && block.Lines.Count > 0) || (comments.Count > 0 && comments[^1].Token.Length != 0))
                    {
                        comments.Add(new GoModComment(default, "", false));
                    }

                    break;

                case Kind.Comment:
                {
                    Token t = Lex();
                    comments.Add(new GoModComment(t.Pos, t.Text, false));
                    break;
                }

                case Kind.Eof:
                    throw Error($"syntax error (unterminated block started at {_fileName}:{block.SpanStart.Line}:{block.SpanStart.LineRune})");

                case Kind.RParen:
                {
                    Token rparen = Lex();
                    block.RParen.Before = comments;
                    block.RParen.Pos = rparen.Pos;
                    if (!IsEolKind(_next.Kind))
                    {
                        throw Error("syntax error (expected newline after closing paren)");
                    }

                    Lex();
                    return block;
                }

                default:
                {
                    GoModLine line = ParseLine();
                    block.Lines.Add(line);
                    line.Before = comments;
                    comments = [];
                    break;
                }
            }
        }
    }

    private GoModLine ParseLine()
    {
        Token first = Lex();
        GoModPosition start = first.Pos;
        GoModPosition end = first.EndPos;
        var tokens = new List<string> { first.Text };
        while (true)
        {
            Token t = Lex();
            if (t.IsEol)
            {
                return new GoModLine(start, tokens, end, inBlock: true);
            }

            tokens.Add(t.Text);
            end = t.EndPos;
        }
    }

    // ---- comment assignment ----

    /// <summary>Attaches each end-of-line comment to the single-line node that ends just before it.
    /// (Whole-line comments were already attached by the grammar.)</summary>
    private void AssignComments()
    {
        var postorder = new List<GoModExpr>();
        foreach (GoModExpr stmt in _file.Statements)
        {
            if (stmt is GoModLineBlock block)
            {
                postorder.Add(block.LParen);
                postorder.AddRange(block.Lines);
                postorder.Add(block.RParen);
            }

            postorder.Add(stmt);
        }

        var suffix = _suffixComments;
        for (int i = postorder.Count - 1; i >= 0; i--)
        {
            GoModExpr x = postorder[i];
            GoModPosition start = x.SpanStart;
            GoModPosition end = x.SpanEnd;

            // Never attach to something spanning lines, so that in "x ( y \n z ) // c" the comment goes to z.
            if (start.Line != end.Line)
            {
                continue;
            }

            while (suffix.Count > 0 && end.Offset <= suffix[^1].Start.Offset)
            {
                x.Suffix.Add(suffix[^1]);
                suffix.RemoveAt(suffix.Count - 1);
            }
        }

        // They were collected in reverse.
        foreach (GoModExpr x in postorder)
        {
            x.Suffix.Reverse();
        }

        // Leftovers belong to the file.
        _file.Suffix.AddRange(suffix);
        suffix.Clear();
    }
}
