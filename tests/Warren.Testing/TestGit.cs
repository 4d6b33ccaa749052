namespace Warren.Testing;

/// <summary>git for building test fixtures: no user or system configuration, a fixed identity; failures are exceptions.</summary>
public static class TestGit
{
    /// <summary>Runs git and returns its trimmed standard output.</summary>
    public static string Run(string? workDir, params string[] args)
    {
        var env = Processes.BaseEnvironment(Path.GetTempPath());
        env["GIT_AUTHOR_NAME"] = "Test";
        env["GIT_AUTHOR_EMAIL"] = "test@example.com";
        env["GIT_COMMITTER_NAME"] = "Test";
        env["GIT_COMMITTER_EMAIL"] = "test@example.com";
        return Processes.RunChecked("git", workDir ?? Path.GetTempPath(), env, args).Stdout.Trim();
    }

    /// <summary>An upstream bare repository (reposDir/relativePath) with a work tree beside it to commit from.</summary>
    public static UpstreamRepo CreateUpstream(string reposDir, string relativePath)
    {
        var bare = Path.Combine(reposDir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        Run(null, "init", "--bare", "--quiet", "--initial-branch=main", bare);
        var work = bare + ".work";
        Run(null, "init", "--quiet", "--initial-branch=main", work);
        Run(work, "remote", "add", "origin", bare);
        return new UpstreamRepo(bare, work);
    }

    /// <summary>Writes a git configuration file that sends https://github.com/ to <paramref name="serverUrl"/>/github.com/
    /// (the url.insteadOf recipe of shared/corpus/README.md); returns its path.</summary>
    public static string WriteGitHubInsteadOf(string configFile, string serverUrl)
    {
        File.WriteAllText(configFile, $"[url \"{serverUrl.TrimEnd('/')}/github.com/\"]\n\tinsteadOf = https://github.com/\n");
        return configFile;
    }
}

/// <summary>A bare repository and the work tree that pushes to it.</summary>
public sealed class UpstreamRepo(string bare, string work)
{
    private int _n;

    public string Bare { get; } = bare;

    public string Work { get; } = work;

    /// <summary>Writes a file of the work tree (committed by the next <see cref="Commit"/>).</summary>
    public UpstreamRepo Write(string relativePath, string content)
    {
        var file = Path.Combine(Work, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        return this;
    }

    /// <summary>Commits a new file (and whatever was written) on the current branch and pushes it and all tags.</summary>
    public string Commit(string message, string? tag = null, bool annotated = false, string branch = "main")
    {
        _n++;
        File.WriteAllText(Path.Combine(Work, $"file{_n}.txt"), message + "\n");
        TestGit.Run(Work, "add", "-A");
        TestGit.Run(Work, "commit", "--quiet", "-m", message);
        if (tag is not null)
        {
            if (annotated)
            {
                TestGit.Run(Work, "tag", "-a", tag, "-m", tag);
            }
            else
            {
                TestGit.Run(Work, "tag", tag);
            }
        }

        TestGit.Run(Work, "push", "--quiet", "--tags", "origin", "HEAD:refs/heads/" + branch);
        return TestGit.Run(Work, "rev-parse", "HEAD");
    }
}
