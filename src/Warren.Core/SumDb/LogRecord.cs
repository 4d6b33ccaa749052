using System.Buffers;
using System.Globalization;
using System.Text;

namespace Warren.Core.SumDb;

/// <summary>A log record as served in lookup responses and data tiles (tlog.FormatRecord / ParseRecord): the record id
/// in decimal, a newline, the record text, and a blank line.</summary>
/// <remarks>Record text is valid UTF-8 without control characters other than newline, ends in a newline and has no
/// blank line.</remarks>
public static class LogRecord
{
    private const string Malformed = "malformed record data";

    /// <summary>Whether text is valid record text.</summary>
    public static bool IsValidText(ReadOnlySpan<byte> text)
    {
        int last = -1;
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf8(text[i..], out var rune, out int size) != OperationStatus.Done ||
                (rune.Value < 0x20 && rune.Value != '\n') || (last == '\n' && rune.Value == '\n'))
            {
                return false;
            }

            i += size;
            last = rune.Value;
        }

        return last == '\n';
    }

    /// <summary>"id\n" + text + "\n".</summary>
    /// <exception cref="FormatException">text is not valid record text ("malformed record data").</exception>
    public static byte[] Format(long id, ReadOnlySpan<byte> text)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (!IsValidText(text))
        {
            throw new FormatException(Malformed);
        }

        var prefix = Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture) + "\n");
        var message = new byte[prefix.Length + text.Length + 1];
        prefix.CopyTo(message, 0);
        text.CopyTo(message.AsSpan(prefix.Length));
        message[^1] = (byte)'\n';
        return message;
    }

    /// <summary>Parses the record at the start of message, stopping right after its blank line, and returns the
    /// id, the text (ending in its newline) and what follows.</summary>
    /// <exception cref="FormatException">"malformed record data": no id line, an id that is not a non-negative
    /// decimal number, no blank line, or invalid text.</exception>
    public static (long Id, ReadOnlyMemory<byte> Text, ReadOnlyMemory<byte> Remainder) Parse(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        int nl = span.IndexOf((byte)'\n');
        if (nl <= 0 || !long.TryParse(span[..nl], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id) || id < 0)
        {
            throw new FormatException(Malformed);
        }

        var body = message[(nl + 1)..];
        int end = body.Span.IndexOf("\n\n"u8);
        if (end < 0)
        {
            throw new FormatException(Malformed);
        }

        var text = body[..(end + 1)];
        if (!IsValidText(text.Span))
        {
            throw new FormatException(Malformed);
        }

        return (id, text, body[(end + 2)..]);
    }
}
