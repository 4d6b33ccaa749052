using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Auth;

/// <summary>The real go 1.19 client against Warren (over https: the go command sends .netrc credentials only there)
/// with an auth file, sending its token from ~/.netrc as HTTP Basic.</summary>
public sealed class AccessControlGoTests
{
    private const string Color = "github.com/fatih/color";
    private const string ColorVersion = "v1.13.0";
    private const string Shlex = "github.com/google/shlex";
    private const string ShlexVersion = "v0.0.0-20191202000000-e7afc7f00000";

    [Fact]
    public async Task The_granted_token_downloads_no_token_gives_401_and_a_token_without_the_grant_403_in_the_go_output()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        var bob = AuthTestFiles.Add(file, "bob", "github.com/mattn,golang.org/x");
        await using var warren = await TlsWarren.StartAsync(upstream.Url, o => o.AuthFile = file);
        var work = TestPaths.NewTempDir("auth-go");

        var granted = await warren.Go(alice).RunAsync(work, "mod", "download", "-json", $"{Color}@{ColorVersion}");
        Assert.True(granted.ExitCode == 0, granted.ToString());
        var o = GoRunner.JsonStream(granted.Stdout).Single();
        Assert.Equal(Manifest.Get(Color, ColorVersion).ZipHash, o.GetProperty("Sum").GetString());

        var anonymous = await warren.Go(null).RunAsync(work, "mod", "download", "-json", $"{Color}@{ColorVersion}");
        Assert.True(anonymous.ExitCode != 0, anonymous.ToString());
        Assert.Contains("401 Unauthorized", anonymous.Stdout + anonymous.Stderr, StringComparison.Ordinal);

        var ungranted = await warren.Go(bob).RunAsync(work, "mod", "download", "-json", $"{Color}@{ColorVersion}");
        Assert.True(ungranted.ExitCode != 0, ungranted.ToString());
        Assert.Contains("403 Forbidden", ungranted.Stdout + ungranted.Stderr, StringComparison.Ordinal);
        Assert.Contains("has no grant matching github.com/fatih/color", ungranted.Stdout + ungranted.Stderr, StringComparison.Ordinal);

        // The refused clients never made Warren fetch anything: the zip came from upstream once, for alice.
        Assert.Equal(1, upstream.HitsFor($"{ColorVersion}.zip"));
    }

    [Fact]
    public async Task A_module_whose_path_matches_the_grant_builds_and_anonymous_patterns_need_no_token()
    {
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var file = AuthTestFiles.NewFile();
        var ci = AuthTestFiles.Add(file, "ci", "github.com/google/*");
        await using var warren = await TlsWarren.StartAsync(upstream.Url, o =>
        {
            o.AuthFile = file;
            o.Anonymous = "github.com/mattn";
        });

        var work = TestPaths.NewTempDir("auth-build");
        await File.WriteAllTextAsync(Path.Combine(work, "go.mod"), $"module example.com/app\n\ngo 1.19\n\nrequire {Shlex} {ShlexVersion}\n");
        await File.WriteAllTextAsync(Path.Combine(work, "main.go"),
            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/shlex\"\n)\n\nfunc main() {\n\tw, _ := shlex.Split(\"a 'b c'\")\n\tfmt.Println(len(w))\n}\n");
        var build = await warren.Go(ci).RunAsync(work, "build", "-o", "app", ".");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.True(File.Exists(Path.Combine(work, "app")));

        var noToken = await warren.Go(null).RunAsync(TestPaths.NewTempDir("auth-build2"), "mod", "download", "-json", $"{Shlex}@{ShlexVersion}");
        Assert.True(noToken.ExitCode != 0, noToken.ToString());
        Assert.Contains("401 Unauthorized", noToken.Stdout + noToken.Stderr, StringComparison.Ordinal);

        // github.com/mattn is anonymous: no token needed.
        var open = await warren.Go(null).RunAsync(TestPaths.NewTempDir("auth-anon"), "mod", "download", "-json", "github.com/mattn/go-isatty@v0.0.14");
        Assert.True(open.ExitCode == 0, open.ToString());
        Assert.Equal(Manifest.Get("github.com/mattn/go-isatty", "v0.0.14").ZipHash, GoRunner.JsonStream(open.Stdout).Single().GetProperty("Sum").GetString());
    }
}
