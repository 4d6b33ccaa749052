using System.Globalization;
using Warren.Core.Limits;
using Warren.Storage.Retention;
using Warren.Tools.Reporting;

namespace Warren.Tools.Retention;

/// <summary>The report of `warren store gc`: one line per version evicted (or, for a dry run, that would be), then a
/// summary.</summary>
public static class StoreGcReport
{
    public static Report Build(CollectionResult result, string location)
    {
        ArgumentNullException.ThrowIfNull(result);
        var check = result.DryRun ? "gc.would-evict" : "gc.evicted";
        var findings = result.Evicted
            .Select(v => new Finding(check, Verdict.Pass, string.Create(CultureInfo.InvariantCulture,
                $"{v.Size} bytes, last used {v.LastUsed:yyyy-MM-ddTHH:mm:ssZ}, {v.Downloads} downloads"), null, v.ToString()))
            .ToList();
        var verb = result.DryRun ? "would evict" : "evicted";
        findings.Add(new Finding("summary", Verdict.Pass, string.Create(CultureInfo.InvariantCulture,
            $"{verb} {result.Evicted.Count} of {result.Versions} versions, {ByteSize.Format(result.SizeBefore)} to {ByteSize.Format(result.SizeAfter)} ({result.SizeBefore} to {result.SizeAfter} bytes); {result.KeptByPattern} kept by --keep; store {location}")));
        return new Report("store gc", findings);
    }
}
