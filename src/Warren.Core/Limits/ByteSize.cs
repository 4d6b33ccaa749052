using System.Globalization;

namespace Warren.Core.Limits;

/// <summary>Sizes as people write them: "20G", "500M", "1.5GiB", "64k", "4096" (bytes). Units are binary multiples
/// (K = 1024), case-insensitive, with an optional "B" or "iB" after the letter.</summary>
public static class ByteSize
{
    private static readonly (string Unit, int Shift)[] Units = [("K", 10), ("M", 20), ("G", 30), ("T", 40), ("P", 50)];

    public static bool TryParse(string? text, out long bytes, out string? error)
    {
        bytes = 0;
        var s = (text ?? "").Trim();
        if (s.Length == 0)
        {
            error = "empty size";
            return false;
        }

        var end = s.Length;
        var shift = 0;
        var upper = s.ToUpperInvariant();
        var needsUnit = upper.EndsWith("IB", StringComparison.Ordinal);
        if (needsUnit)
        {
            end -= 2;
        }
        else if (upper.EndsWith('B'))
        {
            end -= 1;
        }

        if (end > 0 && Array.FindIndex(Units, u => u.Unit[0] == upper[end - 1]) is var unit and >= 0)
        {
            shift = Units[unit].Shift;
            end -= 1;
        }

        var number = s[..end].TrimEnd();
        if ((needsUnit && shift == 0) || number.Length == 0 || number[0] is '-' or '+' ||
            !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            error = $"invalid size \"{text}\": want a number with an optional unit K, M, G, T or P (e.g. 20G, 500M)";
            return false;
        }

        var scaled = value * (1L << shift);
        if (scaled > long.MaxValue)
        {
            error = $"invalid size \"{text}\": too large";
            return false;
        }

        bytes = (long)decimal.Floor(scaled);
        error = null;
        return true;
    }

    /// <summary>A short human form: "20G", "1.5M", "512B".</summary>
    public static string Format(long bytes)
    {
        for (var i = Units.Length - 1; i >= 0; i--)
        {
            var unit = 1L << Units[i].Shift;
            if (bytes >= unit)
            {
                return ((decimal)bytes / unit).ToString("0.#", CultureInfo.InvariantCulture) + Units[i].Unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}
