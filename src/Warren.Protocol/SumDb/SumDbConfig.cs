namespace Warren.Protocol.SumDb;

/// <summary>A checksum database in GOSUMDB syntax: "NAME[+KEY] [URL]".</summary>
public sealed record SumDbConfig(string Name, string? Key, Uri? Url)
{
    /// <summary>The go command's built-in key of sum.golang.org (cmd/go knownGOSUMDB).</summary>
    public const string GoSumDbKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

    /// <summary>The verifier key: the configured one, else the go command's built-in key for the name, else null.</summary>
    public string? EffectiveKey => Key ?? (Name == "sum.golang.org" ? GoSumDbKey : null);

    /// <summary>Parses GOSUMDB syntax; null with no error for "off". "sum.golang.google.cn" means sum.golang.org
    /// reached at https://sum.golang.google.cn, as in the go command.</summary>
    public static SumDbConfig? TryParse(string value, out string? error)
    {
        error = null;
        var trimmed = value.Trim();
        if (trimmed == "sum.golang.google.cn")
        {
            trimmed = "sum.golang.org https://sum.golang.google.cn";
        }

        var fields = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || fields is ["off"])
        {
            return null;
        }

        if (fields.Length > 2)
        {
            error = $"invalid sumdb \"{value}\": want NAME[+KEY] [URL]";
            return null;
        }

        var plus = fields[0].IndexOf('+', StringComparison.Ordinal);
        var name = plus >= 0 ? fields[0][..plus] : fields[0];
        var key = plus >= 0 ? fields[0] : null;
        if (!IsValidName(name))
        {
            error = $"invalid sumdb name \"{name}\": want a host name such as sum.golang.org";
            return null;
        }

        Uri? url = null;
        if (fields.Length == 2)
        {
            var text = fields[1].Contains("://", StringComparison.Ordinal) ? fields[1] : "https://" + fields[1];
            if (!Uri.TryCreate(text.TrimEnd('/'), UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
            {
                error = $"invalid sumdb URL \"{fields[1]}\": want an http or https URL";
                return null;
            }
        }

        return new SumDbConfig(name, key, url);
    }

    /// <summary>Names are host names with an optional path ("sum.golang.org", "example.com/sumdb"): no empty, dot or dot-dot elements.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is 0 or > 200)
        {
            return false;
        }

        foreach (var element in name.Split('/'))
        {
            if (element.Length == 0 || element is "." or "..")
            {
                return false;
            }

            foreach (var c in element)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
