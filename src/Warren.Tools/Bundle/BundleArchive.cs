using System.Formats.Tar;

namespace Warren.Tools.Bundle;

/// <summary>A bundle as one .tar file, or .tar.zst (zstd-compressed, as `tar --zstd` reads it): the directory's files,
/// paths relative to it, written from a directory, read back into one with nothing but regular files at valid bundle
/// paths (no links, no absolute or ".." names).</summary>
public static class BundleArchive
{
    public static bool IsArchive(string path) => path.EndsWith(".tar", StringComparison.Ordinal) || IsCompressed(path);

    private static bool IsCompressed(string path) => path.EndsWith(".tar.zst", StringComparison.Ordinal);

    /// <summary>The archive's tar stream for reading (decompressed on the way for .tar.zst).</summary>
    private static Stream OpenRead(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return IsCompressed(path) ? new ZstdSharp.DecompressionStream(file, leaveOpen: false) : file;
    }

    /// <summary>Writes the directory's files to tarPath (through a temporary file renamed into place).</summary>
    public static async Task CreateAsync(string directory, string tarPath, CancellationToken cancellationToken)
    {
        var temp = tarPath + ".tmp";
        try
        {
            var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                if (IsCompressed(tarPath))
                {
                    // zips are compressed already: a fast level gains what the metadata and the .mod files give.
                    var compressed = new ZstdSharp.CompressionStream(file, level: 3, leaveOpen: true);
                    await using (compressed.ConfigureAwait(false))
                    {
                        await TarFile.CreateFromDirectoryAsync(directory, compressed, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    await TarFile.CreateFromDirectoryAsync(directory, file, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
                }
            }

            File.Move(temp, tarPath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Extracts a bundle archive into an empty directory.</summary>
    /// <exception cref="InvalidDataException">An entry is not a regular file or directory, or its name is not a bundle path.</exception>
    public static async Task ExtractAsync(string tarPath, string directory, CancellationToken cancellationToken)
    {
        var stream = OpenRead(tarPath);
        await using (stream.ConfigureAwait(false))
        {
            var reader = new TarReader(stream);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                    if (entry.EntryType is TarEntryType.Directory || name is "" or ".")
                    {
                        continue;
                    }

                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !Warren.Storage.StoreLayout.IsValidKey(name))
                    {
                        throw new InvalidDataException($"{tarPath}: entry {name} ({entry.EntryType}) is not a regular file at a bundle path");
                    }

                    var target = Path.Combine(directory, name);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await entry.ExtractToFileAsync(target, overwrite: false, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The manifest of a bundle archive.</summary>
    /// <exception cref="InvalidDataException">It holds none.</exception>
    public static byte[] ReadManifest(string tarPath)
    {
        using var stream = OpenRead(tarPath);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name is BundleManifest.FileName or "./" + BundleManifest.FileName && entry.DataStream is { } data)
            {
                using var buffer = new MemoryStream();
                data.CopyTo(buffer);
                return buffer.ToArray();
            }
        }

        throw new InvalidDataException($"{tarPath}: no {BundleManifest.FileName}");
    }
}
