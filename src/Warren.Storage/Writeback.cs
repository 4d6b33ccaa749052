using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Warren.Storage;

/// <summary>Starts writing a file's dirty pages to disk without waiting for them (Linux <c>sync_file_range</c> with
/// <c>SYNC_FILE_RANGE_WRITE</c>). Called on a staged file once it is complete, so that the disk writes it while the file
/// is checked, and the flush that makes it durable before it is published finds little left to do. A hint only: it
/// makes nothing durable, and it does nothing on other systems or where the call fails.</summary>
public static class Writeback
{
    private const uint SyncFileRangeWrite = 2;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Starts the writeback of everything written to handle so far.</summary>
    public static void Start(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (Volatile.Read(ref _unavailable) || handle.IsInvalid || handle.IsClosed)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = Native.SyncFileRange((int)handle.DangerousGetHandle(), 0, 0, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _unavailable, true);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "sync_file_range")]
        public static extern int SyncFileRange(int fd, long offset, long nbytes, uint flags);
    }
}
