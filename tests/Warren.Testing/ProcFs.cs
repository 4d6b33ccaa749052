using System.Text;

namespace Warren.Testing;

/// <summary>What /proc shows of the running processes (Linux), to check that no secret is visible to other users.</summary>
public static class ProcFs
{
    /// <summary>Every process's command line (NUL-separated arguments joined by spaces); processes that vanish are skipped.</summary>
    public static List<string> CommandLines() => [.. CommandLinesWithIds().Select(p => p.CommandLine)];

    public static List<(int Pid, string CommandLine)> CommandLinesWithIds()
    {
        var list = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                if (bytes.Length > 0)
                {
                    list.Add((pid, Encoding.UTF8.GetString(bytes).Replace('\0', ' ')));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return list;
    }

    /// <summary>The environment block of a process (readable for the same user only), one variable a line, or "" when it is gone.</summary>
    public static string Environment(int pid)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Replace('\0', '\n');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
