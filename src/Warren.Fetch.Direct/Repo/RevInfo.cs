using System.Globalization;
using System.Text;

namespace Warren.Fetch.Direct.Repo;

/// <summary>A module version as the go command's modfetch.RevInfo describes it.</summary>
/// <param name="Version">The module version ("v1.2.3", "v0.0.0-20190103191308-f4d46030e490", "v4.3.1+incompatible").</param>
/// <param name="Time">The commit time (committer time, UTC, whole seconds).</param>
public sealed record RevInfo(string Version, DateTimeOffset Time)
{
    /// <summary>The full commit hash.</summary>
    public string Name { get; init; } = "";

    /// <summary>The 12-character commit hash prefix used in pseudo-versions.</summary>
    public string Short { get; init; } = "";

    /// <summary>The .info file of the GOPROXY protocol, as Go's encoding/json writes a RevInfo without Origin:
    /// <c>{"Version":"v1.2.3","Time":"2019-01-03T19:13:08Z"}</c> (RFC 3339 in UTC; no newline).</summary>
    public string ToInfoJson()
    {
        var sb = new StringBuilder(64);
        sb.Append("{\"Version\":");
        AppendJsonString(sb, Version);
        sb.Append(",\"Time\":\"");
        sb.Append(FormatTime(Time));
        sb.Append("\"}");
        return sb.ToString();
    }

    /// <summary>Go's time.Time JSON form (RFC 3339 with nanoseconds trimmed) of a UTC time.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        string s = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        long fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            s += "." + fraction.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0');
        }

        return s + "Z";
    }

    /// <summary>encoding/json's string encoding (HTML-safe, as json.Marshal writes it).</summary>
    private static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                    sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}

/// <summary>The outcome of a module operation: <see cref="Result"/> says Ok, NotFound, Failed or Timeout (with the go
/// command's error text); <see cref="Value"/> is set when Ok.</summary>
public sealed record DirectValue<T>(DirectResult Result, T? Value)
    where T : class
{
    public bool Ok => Result.Status == DirectStatus.Ok && Value is not null;

    public DirectStatus Status => Result.Status;

    public string Message => Result.Message;
}
