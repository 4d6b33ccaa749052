using System.CommandLine;
using Warren.Cli.Commands;
using Warren.Server.Auth;

namespace Warren.Server.Tests.Auth;

/// <summary>`warren token` measures creation and expiry with the clock it is given, not the wall clock.</summary>
public sealed class TokenCommandClockTests
{
    [Fact]
    public async Task Create_stamps_creation_and_expiry_by_the_given_clock()
    {
        var dir = TestPaths.NewTempDir("token-clock");
        var file = Path.Combine(dir, "auth.json");
        var time = new ManualTimeProvider(new DateTimeOffset(2031, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var root = new RootCommand { new TokenCommand(time) };

        Assert.Equal(0, await root.Parse(["token", "create", "alice", "--grant", "example.com/*", "--expires", "2d", "--auth-file", file]).InvokeAsync());
        var alice = Assert.Single(AuthFile.Load(file).Principals);
        Assert.Equal(time.GetUtcNow(), alice.Created);
        Assert.Equal(time.GetUtcNow().AddDays(2), alice.Expires);
    }
}
