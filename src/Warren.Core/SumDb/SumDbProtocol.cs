using System.Text;
using Warren.Core.Modules;

namespace Warren.Core.SumDb;

/// <summary>A parsed /lookup response: the record's id and text, then the signed tree note the server had when it
/// answered.</summary>
public sealed record LookupResponse(long RecordId, ReadOnlyMemory<byte> RecordText, ReadOnlyMemory<byte> SignedTree)
{
    /// <summary>The record text as a string.</summary>
    public string RecordTextString => Encoding.UTF8.GetString(RecordText.Span);
}

/// <summary>The wire formats of a checksum database's HTTP endpoints (golang.org/x/mod/sumdb server and client): all
/// paths are relative to the database's base URL, e.g. "https://sum.golang.org/" + path.</summary>
public static class SumDbProtocol
{
    /// <summary>The path of the signed tree head.</summary>
    public const string LatestPath = "latest";

    /// <summary>The tile height the go command uses.</summary>
    public const int DefaultTileHeight = 8;

    /// <summary>"lookup/" + escaped path + "@" + escaped version. A "/go.mod" suffix on the version is dropped: one
    /// record holds both lines.</summary>
    /// <exception cref="ArgumentException">The path or version cannot be escaped.</exception>
    public static string LookupPath(string modulePath, string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.EndsWith(GoSumLine.GoModSuffix, StringComparison.Ordinal))
        {
            version = version[..^GoSumLine.GoModSuffix.Length];
        }

        if (!ModulePath.TryEscapePath(modulePath, out string escapedPath, out string? error) ||
            !ModulePath.TryEscapeVersion(version, out string escapedVersion, out error))
        {
            throw new ArgumentException(error);
        }

        return "lookup/" + escapedPath + "@" + escapedVersion;
    }

    /// <summary>The body of a /lookup response: <see cref="LogRecord.Format"/> of the record followed by the signed
    /// tree note.</summary>
    public static byte[] FormatLookupResponse(long recordId, ReadOnlySpan<byte> recordText, ReadOnlySpan<byte> signedTree)
    {
        var record = LogRecord.Format(recordId, recordText);
        var body = new byte[record.Length + signedTree.Length];
        record.CopyTo(body, 0);
        signedTree.CopyTo(body.AsSpan(record.Length));
        return body;
    }

    /// <summary>Splits a /lookup response into record id, record text and signed tree note. Neither is verified:
    /// open the note with <see cref="TreeHead.OpenSigned"/> and authenticate the record with
    /// <see cref="SumDbVerifier.CheckRecordAsync"/>.</summary>
    /// <exception cref="FormatException">"malformed record data".</exception>
    public static LookupResponse ParseLookupResponse(ReadOnlyMemory<byte> body)
    {
        var (id, text, rest) = LogRecord.Parse(body);
        return new LookupResponse(id, text, rest);
    }

    /// <summary>The content of a data tile (level −1) as golang.org/x/mod/sumdb's server writes it: each record in
    /// <see cref="LogRecord.Format"/> form, ids counting from tile.Number·2^Height.</summary>
    /// <exception cref="ArgumentException">The tile is not a data tile or the record count is not its width.</exception>
    public static byte[] FormatDataTile(Tile tile, IReadOnlyList<byte[]> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (!tile.IsData || records.Count != tile.Width)
        {
            throw new ArgumentException($"{tile.Path} needs {tile.Width} records, got {records.Count}", nameof(records));
        }

        long first = tile.Number << tile.Height;
        using var output = new MemoryStream();
        for (int i = 0; i < records.Count; i++)
        {
            output.Write(LogRecord.Format(first + i, records[i]));
        }

        return output.ToArray();
    }

    /// <summary>The records of a data tile written by <see cref="FormatDataTile"/>: (id, text) pairs.</summary>
    /// <exception cref="FormatException">"malformed record data".</exception>
    public static IReadOnlyList<(long Id, byte[] Text)> ParseDataTile(ReadOnlyMemory<byte> data)
    {
        var records = new List<(long, byte[])>();
        while (!data.IsEmpty)
        {
            var (id, text, rest) = LogRecord.Parse(data);
            records.Add((id, text.ToArray()));
            data = rest;
        }

        return records;
    }
}
