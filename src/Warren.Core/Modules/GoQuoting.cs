using System.Buffers;
using System.Globalization;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>Go string-literal rules (strconv.Unquote / strconv.Quote / strconv.QuoteRune) and the rune classes
/// of the go.mod lexer, over UTF-16 text.</summary>
public static class GoQuoting
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>strconv.Unquote for a double-quoted or backquoted literal that must span all of <paramref name="literal"/>.</summary>
    public static bool TryUnquote(string literal, out string value)
    {
        value = "";
        if (literal.Length < 2)
        {
            return false;
        }

        return literal[0] switch
        {
            '`' => TryUnquoteRaw(literal, out value),
            '"' => TryUnquoteInterpreted(literal, out value),
            _ => false,
        };
    }

    private static bool TryUnquoteRaw(string literal, out string value)
    {
        value = "";
        int close = literal.IndexOf('`', 1);
        if (close != literal.Length - 1)
        {
            return false;
        }

        // Carriage returns inside raw literals are discarded, as in Go source.
        value = literal[1..close].Replace("\r", "", StringComparison.Ordinal);
        return true;
    }

    private static bool TryUnquoteInterpreted(string literal, out string value)
    {
        value = "";
        var bytes = new List<byte>(literal.Length);
        Span<byte> encoded = stackalloc byte[4];
        int i = 1;
        while (i < literal.Length && literal[i] != '"')
        {
            char c = literal[i];
            if (c == '\n')
            {
                return false;
            }

            if (c != '\\')
            {
                Rune.DecodeFromUtf16(literal.AsSpan(i), out Rune r, out int used);
                int n = r.EncodeToUtf8(encoded);
                for (int k = 0; k < n; k++)
                {
                    bytes.Add(encoded[k]);
                }

                i += used;
                continue;
            }

            if (i + 1 >= literal.Length)
            {
                return false;
            }

            char e = literal[i + 1];
            i += 2;
            switch (e)
            {
                case 'a': bytes.Add(0x07); break;
                case 'b': bytes.Add(0x08); break;
                case 'f': bytes.Add(0x0C); break;
                case 'n': bytes.Add(0x0A); break;
                case 'r': bytes.Add(0x0D); break;
                case 't': bytes.Add(0x09); break;
                case 'v': bytes.Add(0x0B); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '"': bytes.Add((byte)'"'); break;
                case 'x':
                case 'u':
                case 'U':
                {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits > literal.Length)
                    {
                        return false;
                    }

                    long v = 0;
                    for (int k = 0; k < digits; k++)
                    {
                        int h = HexValue(literal[i + k]);
                        if (h < 0)
                        {
                            return false;
                        }

                        v = (v << 4) | (uint)h;
                    }

                    i += digits;
                    if (e == 'x')
                    {
                        bytes.Add((byte)v); // a single byte, possibly not UTF-8
                        break;
                    }

                    if (v > 0x10FFFF || !Rune.IsValid((int)v))
                    {
                        return false;
                    }

                    int len = new Rune((int)v).EncodeToUtf8(encoded);
                    for (int k = 0; k < len; k++)
                    {
                        bytes.Add(encoded[k]);
                    }

                    break;
                }

                case >= '0' and <= '7':
                {
                    if (i + 2 > literal.Length)
                    {
                        return false;
                    }

                    int v = e - '0';
                    for (int k = 0; k < 2; k++)
                    {
                        int d = literal[i + k] - '0';
                        if (d is < 0 or > 7)
                        {
                            return false;
                        }

                        v = (v << 3) | d;
                    }

                    i += 2;
                    if (v > 255)
                    {
                        return false;
                    }

                    bytes.Add((byte)v);
                    break;
                }

                default:
                    return false;
            }
        }

        // The closing quote must be the last character.
        if (i != literal.Length - 1)
        {
            return false;
        }

        value = Utf8.GetString(bytes.ToArray());
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>strconv.Quote (what fmt's %q prints for a string).</summary>
    public static string Quote(ReadOnlySpan<char> s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        int i = 0;
        while (i < s.Length)
        {
            OperationStatus status = Rune.DecodeFromUtf16(s[i..], out Rune r, out int used);
            if (status != OperationStatus.Done)
            {
                // An unpaired surrogate cannot come from UTF-8 input; show its code unit.
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)s[i]:x4}");
                i += used;
                continue;
            }

            AppendEscapedRune(sb, r, '"');
            i += used;
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>strconv.Quote of a byte string: invalid UTF-8 bytes become \xNN.</summary>
    public static string Quote(ReadOnlySpan<byte> s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        while (!s.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(s, out var rune, out int consumed) != OperationStatus.Done)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{s[0]:x2}");
                s = s[1..];
                continue;
            }

            AppendEscapedRune(sb, rune, '"');
            s = s[consumed..];
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>strconv.QuoteRune (what fmt's %q prints for a rune).</summary>
    public static string QuoteRune(int codePoint)
    {
        Rune r = Rune.IsValid(codePoint) ? new Rune(codePoint) : Rune.ReplacementChar;
        var sb = new StringBuilder(8);
        sb.Append('\'');
        AppendEscapedRune(sb, r, '\'');
        sb.Append('\'');
        return sb.ToString();
    }

    private static void AppendEscapedRune(StringBuilder sb, Rune r, char quote)
    {
        int v = r.Value;
        if (v == quote || v == '\\')
        {
            sb.Append('\\').Append((char)v);
            return;
        }

        if (IsPrint(r))
        {
            sb.Append(r.ToString());
            return;
        }

        switch (v)
        {
            case 0x07: sb.Append("\\a"); return;
            case 0x08: sb.Append("\\b"); return;
            case 0x0C: sb.Append("\\f"); return;
            case 0x0A: sb.Append("\\n"); return;
            case 0x0D: sb.Append("\\r"); return;
            case 0x09: sb.Append("\\t"); return;
            case 0x0B: sb.Append("\\v"); return;
        }

        if (v < ' ' || v == 0x7F)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\\x{v:x2}");
        }
        else if (v < 0x10000)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\\u{v:x4}");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"\\U{v:x8}");
        }
    }

    /// <summary>unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    public static bool IsPrint(Rune r)
    {
        if (r.Value == ' ')
        {
            return true;
        }

        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => true,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => true,
            _ => false,
        };
    }

    /// <summary>unicode.IsSpace (the same set as char.IsWhiteSpace, all in the BMP).</summary>
    public static bool IsSpace(Rune r) => r.IsBmp && char.IsWhiteSpace((char)r.Value);

    /// <summary>Input echoed in an error: control and non-ASCII characters escaped, at most 300 characters.</summary>
    public static string Printable(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder();
        foreach (var c in s)
        {
            if (sb.Length >= 300)
            {
                sb.Append('…');
                break;
            }

            if (c < 0x20 || c >= 0x7f)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
