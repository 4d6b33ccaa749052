using System.Text;

namespace Warren.Core.Modules;

public sealed partial class GoModFile
{
    /// <summary>modfetch.LegacyGoMod: the go.mod the go command synthesizes for a module version without one,
    /// "module " + modfile.AutoQuote(path) + "\n" (cmd/go/internal/modfetch/coderepo.go).</summary>
    public static byte[] Synthesize(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        return Encoding.UTF8.GetBytes("module " + AutoQuote(modulePath) + "\n");
    }

    /// <summary>modfile.AutoQuote: the string as it is, or quoted when go.mod syntax needs it.</summary>
    public static string AutoQuote(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return MustQuote(s) ? GoQuoting.Quote(s) : s;
    }

    /// <summary>modfile.MustQuote: spaces, quotes, non-printable runes, comment markers, the empty string, and
    /// bracket or comma characters in a string longer than one character.</summary>
    public static bool MustQuote(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        foreach (var r in s.EnumerateRunes())
        {
            switch (r.Value)
            {
                case ' ' or '"' or '\'' or '`':
                    return true;
                case '(' or ')' or '[' or ']' or '{' or '}' or ',':
                    if (s.Length > 1)
                    {
                        return true;
                    }

                    break;
                default:
                    if (!GoQuoting.IsPrint(r))
                    {
                        return true;
                    }

                    break;
            }
        }

        return s.Length == 0 || s.Contains("//", StringComparison.Ordinal) || s.Contains("/*", StringComparison.Ordinal);
    }
}
