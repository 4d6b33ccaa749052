namespace Warren.Core.SumDb;

/// <summary>Standard base64 (with padding) decoded the way Go's base64.StdEncoding decodes a single line: unlike
/// <see cref="Convert.TryFromBase64String"/> it rejects embedded spaces and tabs.</summary>
internal static class Base64Strict
{
    public static bool TryDecode(string s, out byte[] bytes)
    {
        bytes = [];
        if (s.Length % 4 != 0)
        {
            return false;
        }

        foreach (char c in s)
        {
            bool ok = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '+' or '/' or '=';
            if (!ok)
            {
                return false;
            }
        }

        var buffer = new byte[s.Length / 4 * 3];
        if (!Convert.TryFromBase64String(s, buffer, out int written))
        {
            return false;
        }

        bytes = written == buffer.Length ? buffer : buffer[..written];
        return true;
    }
}
