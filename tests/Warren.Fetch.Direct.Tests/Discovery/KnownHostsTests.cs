using Warren.Fetch.Direct.Discovery;

namespace Warren.Fetch.Direct.Tests.Discovery;

public class KnownHostsTests
{
    [Theory]
    [InlineData("github.com/pkg/errors", "github.com/pkg/errors", "https://github.com/pkg/errors")]
    [InlineData("github.com/owner/repo/sub/pkg", "github.com/owner/repo", "https://github.com/owner/repo")]
    [InlineData("github.com/cespare/xxhash/v2", "github.com/cespare/xxhash", "https://github.com/cespare/xxhash")]
    [InlineData("github.com/ugorji/go/codec", "github.com/ugorji/go", "https://github.com/ugorji/go")]
    [InlineData("github.com/Owner_1/Repo.Name-x", "github.com/Owner_1/Repo.Name-x", "https://github.com/Owner_1/Repo.Name-x")]
    [InlineData("github.com/golang/groupcache", "github.com/golang/groupcache", "https://github.com/golang/groupcache")]
    [InlineData("bitbucket.org/workspace/pkgname", "bitbucket.org/workspace/pkgname", "https://bitbucket.org/workspace/pkgname")]
    [InlineData("bitbucket.org/workspace/pkgname/sub", "bitbucket.org/workspace/pkgname", "https://bitbucket.org/workspace/pkgname")]
    [InlineData("hub.jazz.net/git/user1/pkgname", "hub.jazz.net/git/user1/pkgname", "https://hub.jazz.net/git/user1/pkgname")]
    [InlineData("hub.jazz.net/git/user1/pkgname/submodule/submodule/submodule", "hub.jazz.net/git/user1/pkgname", "https://hub.jazz.net/git/user1/pkgname")]
    [InlineData("hub.jazz.net/git/user/pkg.name", "hub.jazz.net/git/user/pkg.name", "https://hub.jazz.net/git/user/pkg.name")]
    [InlineData("git.openstack.org/openstack/swift", "git.openstack.org/openstack/swift", "https://git.openstack.org/openstack/swift")]
    [InlineData("git.openstack.org/openstack/swift.git", "git.openstack.org/openstack/swift.git", "https://git.openstack.org/openstack/swift.git")]
    [InlineData("git.openstack.org/openstack/swift/go/hummingbird", "git.openstack.org/openstack/swift", "https://git.openstack.org/openstack/swift")]
    [InlineData("git.apache.org/package-name.git", "git.apache.org/package-name.git", "https://git.apache.org/package-name.git")]
    [InlineData("git.apache.org/package-name_2.x.git/path/to/lib", "git.apache.org/package-name_2.x.git", "https://git.apache.org/package-name_2.x.git")]
    public void Known_git_hosts_map_without_network(string path, string root, string url)
    {
        KnownHostResult r = KnownHosts.Lookup(path);
        Assert.Equal(KnownHostKind.Match, r.Kind);
        Assert.Equal(root, r.Root);
        Assert.Equal("git", r.Vcs);
        Assert.Equal(url, r.Url);
        Assert.False(r.SchemelessUrl);
    }

    [Fact]
    public void Chiselapp_is_fossil()
    {
        KnownHostResult r = KnownHosts.Lookup("chiselapp.com/user/kyle/repository/fossilgg");
        Assert.Equal(KnownHostKind.Match, r.Kind);
        Assert.Equal("fossil", r.Vcs);
        Assert.Equal("https://chiselapp.com/user/kyle/repository/fossilgg", r.Url);
    }

    [Theory]
    [InlineData("github.com", "invalid github.com import path \"github.com\"")]
    [InlineData("github.com/owner", "invalid github.com import path \"github.com/owner\"")]
    [InlineData("github.com/user/unicode/испытание", "invalid github.com import path \"github.com/user/unicode/испытание\"")]
    [InlineData("github.com/owner/repo/", "invalid github.com import path \"github.com/owner/repo/\"")]
    [InlineData("github.com/owner/re po", "invalid github.com import path \"github.com/owner/re po\"")]
    [InlineData("github.com/owner/repo.git", "invalid version control suffix in github.com/ path")]
    [InlineData("github.com/owner/repo.git/sub", "invalid version control suffix in github.com/ path")]
    [InlineData("github.com/owner/repo.hg", "invalid version control suffix in github.com/ path")]
    [InlineData("bitbucket.org/owner/repo.git", "invalid version control suffix in bitbucket.org/ path")]
    [InlineData("hub.jazz.net/git", "invalid hub.jazz.net/git import path \"hub.jazz.net/git\"")]
    [InlineData("hub.jazz.net/git/User 1/pkgname", "invalid hub.jazz.net/git import path \"hub.jazz.net/git/User 1/pkgname\"")]
    [InlineData("hub.jazz.net/git/user.1/pkgname", "invalid hub.jazz.net/git import path \"hub.jazz.net/git/user.1/pkgname\"")]
    [InlineData("hub.jazz.net/git/USER/pkgname", "invalid hub.jazz.net/git import path \"hub.jazz.net/git/USER/pkgname\"")]
    [InlineData("git.openstack.org", "invalid git.openstack.org import path \"git.openstack.org\"")]
    [InlineData("git.openstack.org/openstack", "invalid git.openstack.org import path \"git.openstack.org/openstack\"")]
    [InlineData("git.apache.org/package-name/path/to/lib", "invalid git.apache.org import path \"git.apache.org/package-name/path/to/lib\"")]
    [InlineData("chiselapp.com/kyle/repository/fossilgg", "invalid chiselapp.com import path \"chiselapp.com/kyle/repository/fossilgg\"")]
    [InlineData("chiselapp.com/user/kyle/fossilgg", "invalid chiselapp.com import path \"chiselapp.com/user/kyle/fossilgg\"")]
    [InlineData("https://github.com/x/y", "\"https://\" not allowed in import path")]
    [InlineData("http:/example.com/x", "\"http://\" not allowed in import path")]
    [InlineData("example.net/anything", "no modules on example.net")]
    [InlineData("rsc.io", "rsc.io is not a module")]
    public void Invalid_paths_for_known_hosts(string path, string message)
    {
        KnownHostResult r = KnownHosts.Lookup(path);
        Assert.Equal(KnownHostKind.Invalid, r.Kind);
        Assert.Equal(message, r.Message);
    }

    [Theory]
    [InlineData("golang.org/x/sync")]
    [InlineData("gopkg.in/yaml.v3")]
    [InlineData("hub.jazz.net")]
    [InlineData("hubajazz.net")]
    [InlineData("hub2.jazz.net")]
    [InlineData("hub.jazz.net/someotherprefix/user1/pkgname")]
    [InlineData("gitbapache.org")]
    [InlineData("github.company.com/owner/repo")]
    [InlineData("rsc.io/quote")]
    [InlineData("example.com/repo.gitx/sub")]
    [InlineData("example.com/repo.git.d")]
    [InlineData("launchpad.net/project")]
    [InlineData("example.org")]
    public void Other_paths_need_a_dynamic_lookup(string path)
    {
        Assert.Equal(KnownHostKind.Unknown, KnownHosts.Lookup(path).Kind);
    }

    [Theory]
    [InlineData("example.com/repo.git", "example.com/repo.git", "git", "example.com/repo")]
    [InlineData("example.com/path/repo.git/sub", "example.com/path/repo.git", "git", "example.com/path/repo")]
    // The next three are what Go's regexp (leftmost-first, like Perl) reports for the same pattern.
    [InlineData("example.com/a.git/b.git/c", "example.com/a.git/b.git", "git", "example.com/a.git/b")]
    [InlineData("example.com/x.git.git", "example.com/x.git.git", "git", "example.com/x.git")]
    [InlineData("example.com/a.git.hg/b", "example.com/a.git.hg", "hg", "example.com/a.git")]
    [InlineData("a.b.c.example.com/x.y/repo.git", "a.b.c.example.com/x.y/repo.git", "git", "a.b.c.example.com/x.y/repo")]
    [InlineData("git.example.com:8080/~user/repo.git/pkg", "git.example.com:8080/~user/repo.git", "git", "git.example.com:8080/~user/repo")]
    [InlineData("code.example.org/x/y.hg", "code.example.org/x/y.hg", "hg", "code.example.org/x/y")]
    [InlineData("example.com/svn/trunk.svn/a/b", "example.com/svn/trunk.svn", "svn", "example.com/svn/trunk")]
    [InlineData("example.com/p.bzr", "example.com/p.bzr", "bzr", "example.com/p")]
    [InlineData("example.com/p.fossil", "example.com/p.fossil", "fossil", "example.com/p")]
    [InlineData("rsc.io/nonexist.svn/foo", "rsc.io/nonexist.svn", "svn", "rsc.io/nonexist")]
    // Like Go's (unanchored) pattern, the match starts at the first lower-case host character.
    [InlineData("Example.com/foo.git", "xample.com/foo.git", "git", "xample.com/foo")]
    public void Version_control_suffix_rule(string path, string root, string vcs, string schemelessUrl)
    {
        KnownHostResult r = KnownHosts.Lookup(path);
        Assert.Equal(KnownHostKind.Match, r.Kind);
        Assert.Equal(root, r.Root);
        Assert.Equal(vcs, r.Vcs);
        Assert.Equal(schemelessUrl, r.Url);
        Assert.True(r.SchemelessUrl);
    }

    [Fact]
    public void Long_dotted_paths_do_not_backtrack_exponentially()
    {
        string path = string.Concat(Enumerable.Repeat("a.", 5000)) + "com/x/y!";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(KnownHostKind.Unknown, KnownHosts.Lookup(path).Kind);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
    }

    [Theory]
    [InlineData("launchpad.net/project", "launchpad.net/project")]
    [InlineData("launchpad.net/project/series/sub", "launchpad.net/project/series")]
    [InlineData("launchpad.net/~user/project/branch/sub", "launchpad.net/~user/project/branch")]
    [InlineData("launchpad.net/~user/+junk/branch", "launchpad.net/~user/+junk/branch")]
    public void Launchpad_is_consulted_after_the_dynamic_lookup(string path, string root)
    {
        KnownHostResult r = KnownHosts.LookupAfterDynamic(path);
        Assert.Equal(KnownHostKind.Match, r.Kind);
        Assert.Equal(root, r.Root);
        Assert.Equal("bzr", r.Vcs);
        Assert.Equal("https://" + root, r.Url);
    }
}
