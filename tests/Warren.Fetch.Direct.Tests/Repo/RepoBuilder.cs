using System.Text;

namespace Warren.Fetch.Direct.Tests.Repo;

/// <summary>Builds a git repository with the git CLI: fixed author, committer and dates (so commit ids are stable), then a
/// bare clone for serving.</summary>
internal sealed class RepoBuilder
{
    private readonly Dictionary<string, string> _env;
    private string _date = "2020-01-01T00:00:00Z";

    public RepoBuilder(string workDir)
    {
        WorkDir = workDir;
        Directory.CreateDirectory(workDir);
        _env = Processes.BaseEnvironment(workDir);
        _env["GIT_AUTHOR_NAME"] = "warren";
        _env["GIT_AUTHOR_EMAIL"] = "warren@example.invalid";
        _env["GIT_COMMITTER_NAME"] = "warren";
        _env["GIT_COMMITTER_EMAIL"] = "warren@example.invalid";
        Git("init", "-q", "-b", "main");
    }

    public string WorkDir { get; }

    /// <summary>Commits by label (full hashes).</summary>
    public Dictionary<string, string> Commits { get; } = new(StringComparer.Ordinal);

    public string Git(params string[] args)
    {
        _env["GIT_AUTHOR_DATE"] = _date;
        _env["GIT_COMMITTER_DATE"] = _date;
        var r = Processes.RunAsync("git", WorkDir, _env, args).GetAwaiter().GetResult();
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("git " + string.Join(' ', args) + " failed: " + r);
        }

        return r.Stdout.Trim();
    }

    public RepoBuilder Write(string path, string content)
    {
        string full = Path.Combine(WorkDir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, Encoding.UTF8.GetBytes(content));
        return this;
    }

    public RepoBuilder GoMod(string dir, string module, string extra = "")
        => Write(dir.Length == 0 ? "go.mod" : dir + "/go.mod", $"module {module}\n\ngo 1.19\n{extra}");

    public RepoBuilder Symlink(string path, string target)
    {
        string full = Path.Combine(WorkDir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.CreateSymbolicLink(full, target);
        return this;
    }

    public RepoBuilder Remove(string path)
    {
        Git("rm", "-q", "-r", "--", path);
        return this;
    }

    /// <summary>A submodule entry (gitlink) pointing at an arbitrary commit id.</summary>
    public RepoBuilder Gitlink(string path, string commit)
    {
        Git("update-index", "--add", "--cacheinfo", $"160000,{commit},{path}");
        return this;
    }

    public string Commit(string message, string date, string? label = null)
    {
        _date = date;
        Git("add", "-A");
        Git("commit", "-q", "--allow-empty", "-m", message);
        string hash = Git("rev-parse", "HEAD");
        if (label is not null)
        {
            Commits[label] = hash;
        }

        return hash;
    }

    public RepoBuilder Tag(string name, bool annotated = false)
    {
        if (annotated)
        {
            Git("tag", "-a", "-m", "release " + name, name);
        }
        else
        {
            Git("tag", name);
        }

        return this;
    }

    public RepoBuilder Checkout(string branch, bool create = false)
    {
        if (create)
        {
            Git("checkout", "-q", "-b", branch);
        }
        else
        {
            Git("checkout", "-q", branch);
        }

        return this;
    }

    private void BareGit(string gitDir, params string[] args)
    {
        var r = Processes.RunAsync("git", null, _env, ["--git-dir", gitDir, .. args]).GetAwaiter().GetResult();
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("git " + string.Join(' ', args) + " failed: " + r);
        }
    }

    /// <summary>Many commits at once through git fast-import: one commit per tag, each changing version.txt.</summary>
    public void FastImportTaggedCommits(IReadOnlyList<string> tags, long firstUnixTime, string goMod)
    {
        var sb = new StringBuilder();
        sb.Append("blob\nmark :1\n").Append(Data(goMod));
        for (int i = 0; i < tags.Count; i++)
        {
            long t = firstUnixTime + (i * 60);
            string msg = "release " + tags[i];
            sb.Append("commit refs/heads/main\n");
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"mark :{i + 2}\n");
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"author warren <warren@example.invalid> {t} +0000\n");
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"committer warren <warren@example.invalid> {t} +0000\n");
            sb.Append(Data(msg));
            if (i > 0)
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"from :{i + 1}\n");
            }

            sb.Append("M 100644 :1 go.mod\n");
            sb.Append("M 100644 inline version.txt\n").Append(Data(tags[i] + "\n"));
            sb.Append('\n');
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"reset refs/tags/{tags[i]}\nfrom :{i + 2}\n\n");
        }

        var r = Processes.RunAsync("git", WorkDir, _env, ["fast-import", "--quiet"], sb.ToString()).GetAwaiter().GetResult();
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("git fast-import failed: " + r);
        }

        Git("reset", "-q", "--hard", "main");

        static string Data(string s)
        {
            int n = Encoding.UTF8.GetByteCount(s);
            return $"data {n}\n{s}\n";
        }
    }

    private readonly List<(string Branch, string Ref)> _moves = [];

    /// <summary>After the bare clone, the branch becomes another kind of ref (e.g. refs/pull/1/head, as GitHub serves
    /// pull requests): its commits stay in the repository but are reachable from no branch or tag.</summary>
    public void MoveBranchToRef(string branch, string refName) => _moves.Add((branch, refName));

    /// <summary>A bare clone at dest (all branches and tags), HEAD on main.</summary>
    public string CloneBare(string dest)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
        bool empty = Commits.Count == 0 && Processes.RunAsync("git", WorkDir, _env, ["rev-parse", "-q", "--verify", "HEAD"]).GetAwaiter().GetResult().ExitCode != 0;
        if (!empty)
        {
            Git("checkout", "-q", "main");
        }

        var r = Processes.RunAsync("git", null, _env, ["clone", "-q", "--bare", WorkDir, dest]).GetAwaiter().GetResult();
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("git clone --bare failed: " + r);
        }

        foreach (var (branch, refName) in _moves)
        {
            string hash = Git("rev-parse", branch);
            BareGit(dest, "update-ref", refName, hash);
            BareGit(dest, "update-ref", "-d", "refs/heads/" + branch);
        }

        return dest;
    }
}
