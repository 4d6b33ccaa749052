using Warren.Tools.Reporting;

namespace Warren.Tools.Doctor;

public sealed partial class DoctorRunner
{
    private const long GiB = 1L << 30;
    private const long MiB = 1L << 20;
    private const int MaxNamed = 10;

    private void CheckDisk(List<Finding> findings)
    {
        foreach (var (name, check) in new[] { ("GOMODCACHE", "disk.gomodcache"), ("GOCACHE", "disk.gocache") })
        {
            var dir = _go[name];
            if (dir.Length == 0 || dir == "off")
            {
                findings.Add(new Finding(check, Verdict.Warn, $"{name} is not set", $"export {name}=<a writable directory>"));
                continue;
            }

            CheckWritable(findings, check, name, dir);
        }

        CheckLeftovers(findings, _go["GOMODCACHE"]);
    }

    private static string? NearestExisting(string dir)
    {
        for (var d = Path.GetFullPath(dir); d is not null; d = Path.GetDirectoryName(d))
        {
            if (Directory.Exists(d))
            {
                return d;
            }
        }

        return null;
    }

    private static void CheckWritable(List<Finding> findings, string check, string name, string dir)
    {
        var existing = NearestExisting(dir);
        if (existing is null)
        {
            findings.Add(new Finding(check, Verdict.Fail, $"{name}={dir}: no part of the path exists", $"export {name}=<a writable directory>", dir));
            return;
        }

        var probe = Path.Combine(existing, $".warren-doctor-{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            findings.Add(new Finding(check, Verdict.Fail, $"{name}={dir}: cannot create a file in {existing}: {e.Message}",
                $"fix the permissions (chown/chmod) of {existing}, or export {name}=<a writable directory>", dir));
            return;
        }

        var note = existing == Path.GetFullPath(dir) ? "" : $" (not created yet; {existing} is)";
        long free;
        try
        {
            free = new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            findings.Add(new Finding(check, Verdict.Pass, $"{name}={dir} writable{note}; free space unknown ({e.Message})", null, dir));
            return;
        }

        var freeText = free >= GiB ? $"{free / (double)GiB:0.0} GiB" : $"{free / (double)MiB:0} MiB";
        var verdict = free < 100 * MiB ? Verdict.Fail : free < GiB ? Verdict.Warn : Verdict.Pass;
        findings.Add(new Finding(check, verdict, $"{name}={dir} writable{note}, {freeText} free",
            verdict == Verdict.Pass ? null : $"free disk space (go clean -cache / go clean -modcache) or move {name} to a larger disk", dir));
    }

    /// <summary>Files an interrupted download leaves: *.partial and *.tmp-* under cache/download and *.partial markers of
    /// half-extracted modules, and *.lock files still held after the stale age.</summary>
    private void CheckLeftovers(List<Finding> findings, string modCache)
    {
        if (modCache.Length == 0)
        {
            return;
        }

        if (!Directory.Exists(modCache))
        {
            findings.Add(new Finding("disk.leftovers", Verdict.Pass, "GOMODCACHE does not exist yet: nothing left over", null, modCache));
            return;
        }

        var leftovers = new List<string>();
        var heldLocks = new List<string>();
        var download = Warren.Protocol.ModCache.ModCacheLayout.DownloadDirectory(modCache);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        if (Directory.Exists(download))
        {
            var now = _time.GetUtcNow().UtcDateTime;
            foreach (var file in Directory.EnumerateFiles(download, "*", options))
            {
                var name = Path.GetFileName(file);
                if (name.EndsWith(".partial", StringComparison.Ordinal) || name.Contains(".tmp-", StringComparison.Ordinal))
                {
                    leftovers.Add(file);
                }
                else if (name.EndsWith(".lock", StringComparison.Ordinal) && now - File.GetLastWriteTimeUtc(file) > _options.StaleLockAge && IsHeld(file))
                {
                    heldLocks.Add(file);
                }
            }
        }

        // Half-extracted module directories are marked by "<module>@<version>.partial" beside them.
        var stack = new Stack<string>([modCache]);
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
                {
                    var name = Path.GetFileName(entry);
                    if (Directory.Exists(entry))
                    {
                        if (!name.Contains('@', StringComparison.Ordinal) && !(dir == modCache && name == "cache"))
                        {
                            stack.Push(entry);
                        }
                    }
                    else if (name.Contains('@', StringComparison.Ordinal) && name.EndsWith(".partial", StringComparison.Ordinal))
                    {
                        leftovers.Add(entry);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unreadable directory is not a leftover.
            }
        }

        if (leftovers.Count > 0)
        {
            findings.Add(new Finding("disk.leftovers", Verdict.Warn,
                $"{leftovers.Count} leftovers of interrupted downloads in GOMODCACHE: {Names(leftovers)}",
                "delete them (or go clean -modcache) when no go command is running", modCache));
        }

        if (heldLocks.Count > 0)
        {
            findings.Add(new Finding("disk.locks", Verdict.Warn,
                $"{heldLocks.Count} lock files held for over {_options.StaleLockAge.TotalMinutes:0} minutes: a go command may be stuck: {Names(heldLocks)}",
                "stop the stuck go process (or go clean -modcache)", modCache));
        }

        if (leftovers.Count == 0 && heldLocks.Count == 0)
        {
            findings.Add(new Finding("disk.leftovers", Verdict.Pass, "no partial downloads or stuck locks in GOMODCACHE", null, modCache));
        }
    }

    private static string Names(List<string> files) =>
        string.Join(", ", files.Take(MaxNamed)) + (files.Count > MaxNamed ? $" and {files.Count - MaxNamed} more" : "");

    /// <summary>Whether another process holds the lock (on Unix an exclusive open takes a non-blocking flock).</summary>
    private static bool IsHeld(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
