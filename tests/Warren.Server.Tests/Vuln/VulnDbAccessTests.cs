using Microsoft.Extensions.DependencyInjection;
using Warren.Server.Tests.Auth;
using Warren.Server.Tests.Infrastructure;
using Warren.Server.Vulns;

namespace Warren.Server.Tests.Vuln;

/// <summary>/vuln/ with an auth file is authorised like the checksum database's latest (it names no module): any valid
/// token, or nobody when anonymous access is configured; and the mirror's fetches pass the egress policy.</summary>
public sealed class VulnDbAccessTests
{
    private const string DbJson = "vuln/index/db.json";

    [Fact]
    public async Task Without_anonymous_access_a_token_is_needed_any_valid_one_will_do_and_with_anonymous_none_is()
    {
        var upstream = await VulnDbUpstream.StartAsync(TestVulnDb.Write());
        try
        {
            var file = AuthTestFiles.NewFile();
            var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih"); // no grant for the advisory's module
            await using (var warren = await WarrenInstance.StartAsync("off", o =>
            {
                o.AuthFile = file;
                o.VulnDb = upstream.Url;
            }))
            {
                var (none, body, response) = await AuthTestFiles.GetAsync(warren.Client, DbJson);
                Assert.Equal(401, none);
                Assert.Equal("Basic realm=\"warren\"", response.Headers.WwwAuthenticate.Single().ToString());
                Assert.StartsWith("unauthorized: no credential", body, StringComparison.Ordinal);
                Assert.Equal(401, (await AuthTestFiles.GetAsync(warren.Client, "vuln/index.json")).Status);

                var (bearer, db, _) = await AuthTestFiles.GetAsync(warren.Client, DbJson, AuthTestFiles.Bearer(alice));
                Assert.Equal(200, bearer);
                Assert.Contains("2026-01-02T00:00:00Z", db, StringComparison.Ordinal);
                var (basic, legacy, _) = await AuthTestFiles.GetAsync(warren.Client, "vuln/github.com/dustin/go-humanize.json", AuthTestFiles.Basic(alice));
                Assert.Equal(200, basic);
                Assert.Contains(TestVulnDb.Id, legacy, StringComparison.Ordinal);

                var (revoked, _, _) = await AuthTestFiles.GetAsync(warren.Client, DbJson, AuthTestFiles.Bearer(alice[..^4] + "0000"));
                Assert.Equal(401, revoked);
            }

            await using (var open = await WarrenInstance.StartAsync("off", o =>
            {
                o.AuthFile = file;
                o.VulnDb = upstream.Url;
                o.Anonymous = "github.com/mattn";
            }))
            {
                var (status, db, _) = await AuthTestFiles.GetAsync(open.Client, DbJson);
                Assert.Equal(200, status);
                Assert.Contains("2026-01-02T00:00:00Z", db, StringComparison.Ordinal);
            }
        }
        finally
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_redirect_from_the_database_to_a_port_the_egress_policy_does_not_allow_is_refused_without_connecting()
    {
        using var forbidden = new CountingListener();
        var (redirector, url) = await LoopbackApp.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = $"http://127.0.0.1:{forbidden.Port}{context.Request.Path}";
            return Task.CompletedTask;
        });
        try
        {
            // The configured --vulndb is allowed implicitly (the redirect answer comes back); where it points is not.
            await using var warren = await WarrenInstance.StartAsync("off", o => o.VulnDb = url);
            var mirror = warren.Services.GetRequiredService<VulnDbMirror>();
            Assert.False(await mirror.RefreshAsync(CancellationToken.None));
            Assert.Contains("redirect from 127.0.0.1 to 127.0.0.1 not followed", mirror.Status.LastError, StringComparison.Ordinal);
            Assert.Contains("refused by the egress policy", mirror.Status.LastError, StringComparison.Ordinal);

            var response = await warren.Client.GetAsync(DbJson);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("refused by the egress policy", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(0, forbidden.Connections);
        }
        finally
        {
            await LoopbackApp.StopAsync(redirector);
        }
    }
}
