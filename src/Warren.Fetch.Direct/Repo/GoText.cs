using System.Globalization;
using System.Text;

namespace Warren.Fetch.Direct.Repo;

/// <summary>Go's strconv.Quote and unicode.IsPrint, for error texts that must read like the go command's.</summary>
internal static class GoText
{
    /// <summary>strconv.Quote (fmt's %q of a string).</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        for (int i = 0; i < s.Length;)
        {
            if (Rune.DecodeFromUtf16(s.AsSpan(i), out Rune r, out int used) != System.Buffers.OperationStatus.Done)
            {
                sb.Append("\\ufffd");
                i += Math.Max(used, 1);
                continue;
            }

            AppendEscapedRune(sb, r);
            i += used;
        }

        sb.Append('"');
        return sb.ToString();
    }

    private static void AppendEscapedRune(StringBuilder sb, Rune r)
    {
        int v = r.Value;
        if (v is '"' or '\\')
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
}
