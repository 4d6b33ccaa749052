using System.Globalization;
using System.Text;

namespace Warren.Core.Modules;

/// <summary>Go's %q formatting (strconv.Quote / strconv.QuoteRune), so error texts read exactly as the go command's.</summary>
internal static class GoQuoting
{
    /// <summary>strconv.Quote: double-quoted, with Go escapes for '"', '\\' and non-printable characters.</summary>
    public static string Quote(ReadOnlySpan<char> s)
    {
        if (IsPlain(s))
        {
            return string.Concat("\"", s, "\"");
        }

        var sb = new StringBuilder(s.Length + 8);
        sb.Append('"');
        int i = 0;
        while (i < s.Length)
        {
            if (Rune.DecodeFromUtf16(s[i..], out var r, out int used) != System.Buffers.OperationStatus.Done)
            {
                // A lone surrogate has no UTF-8 form; show the code unit the way Go shows an unencodable rune.
                AppendHex(sb, 'u', s[i], 4);
                i++;
                continue;
            }

            AppendEscaped(sb, r.Value, '"');
            i += used;
        }

        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>strconv.QuoteRune: single-quoted, with Go escapes for '\'', '\\' and non-printable characters.</summary>
    public static string QuoteRune(int rune)
    {
        if (rune is >= 0x20 and < 0x7F && rune != '\'' && rune != '\\')
        {
            return string.Create(3, (char)rune, static (span, c) =>
            {
                span[0] = '\'';
                span[1] = c;
                span[2] = '\'';
            });
        }

        var sb = new StringBuilder(12);
        sb.Append('\'');
        AppendEscaped(sb, rune, '\'');
        sb.Append('\'');
        return sb.ToString();
    }

    private static bool IsPlain(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (c is < (char)0x20 or >= (char)0x7F or '"' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    private static void AppendEscaped(StringBuilder sb, int r, char quote)
    {
        if (r == quote || r == '\\')
        {
            sb.Append('\\').Append((char)r);
            return;
        }

        if (IsPrint(r))
        {
            AppendRune(sb, r);
            return;
        }

        switch (r)
        {
            case '\a': sb.Append("\\a"); return;
            case '\b': sb.Append("\\b"); return;
            case '\f': sb.Append("\\f"); return;
            case '\n': sb.Append("\\n"); return;
            case '\r': sb.Append("\\r"); return;
            case '\t': sb.Append("\\t"); return;
            case '\v': sb.Append("\\v"); return;
        }

        if (r < ' ' || r == 0x7F)
        {
            AppendHex(sb, 'x', r, 2);
        }
        else if (!Rune.IsValid(r))
        {
            AppendHex(sb, 'u', 0xFFFD, 4);
        }
        else if (r < 0x10000)
        {
            AppendHex(sb, 'u', r, 4);
        }
        else
        {
            AppendHex(sb, 'U', r, 8);
        }
    }

    private static void AppendRune(StringBuilder sb, int r)
    {
        if (r < 0x10000)
        {
            sb.Append((char)r);
        }
        else
        {
            Span<char> pair = stackalloc char[2];
            new Rune(r).EncodeToUtf16(pair);
            sb.Append(pair);
        }
    }

    private static void AppendHex(StringBuilder sb, char kind, int value, int digits)
    {
        sb.Append('\\').Append(kind);
        sb.Append(value.ToString(digits == 2 ? "x2" : digits == 4 ? "x4" : "x8", CultureInfo.InvariantCulture));
    }

    /// <summary>unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and the ASCII space.</summary>
    internal static bool IsPrint(int r)
    {
        if (r < 0x80)
        {
            return r is >= 0x20 and < 0x7F;
        }

        if (!Rune.IsValid(r))
        {
            return false;
        }

        switch (Rune.GetUnicodeCategory(new Rune(r)))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
            case UnicodeCategory.MathSymbol:
            case UnicodeCategory.CurrencySymbol:
            case UnicodeCategory.ModifierSymbol:
            case UnicodeCategory.OtherSymbol:
                return true;
            default:
                return false;
        }
    }
}
