using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Warren.Server.Auth;
using Warren.Server.Configuration;

namespace Warren.Server.Tests.Auth;

/// <summary>The contract with the origin-authorization middleware that follows this one: paths under
/// --authorize-by-origin are passed on, never refused for a credential Warren does not know (it is an origin
/// credential), marked private, and carry the principal (or "anonymous").</summary>
public sealed class OriginPathsTests
{
    private static async Task<(bool Reached, HttpContext Context)> InvokeAsync(string authFile, string path, string? authorization)
    {
        var options = new WarrenOptions { AuthFile = authFile, AuthorizeByOrigin = "git.corp.example/secret", Private = "" };
        using var store = new AuthStore(Options.Create(options), TimeProvider.System, NullLogger<AuthStore>.Instance);
        var reached = false;
        var middleware = new AccessControlMiddleware(_ =>
        {
            reached = true;
            return Task.CompletedTask;
        }, store, new RateLimitHolder(null), Options.Create(options), NullLoggerFactory.Instance, TimeProvider.System);
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        await middleware.InvokeAsync(context);
        return (reached, context);
    }

    [Fact]
    public async Task Origin_paths_pass_with_any_credential_marked_private_and_other_paths_are_still_checked()
    {
        var file = AuthTestFiles.NewFile();
        var alice = AuthTestFiles.Add(file, "alice", "github.com/fatih");
        const string secret = "/git.corp.example/secret/repo/@v/v1.0.0.zip";

        var origin = await InvokeAsync(file, secret, "Basic " + Convert.ToBase64String("dev:ghp_origin-password"u8));
        Assert.True(origin.Reached);
        Assert.Equal(AuthFile.AnonymousName, origin.Context.Items[AccessControl.PrincipalItem]);
        Assert.True(origin.Context.Items.ContainsKey(AccessControl.PrivateItem));

        var asAlice = await InvokeAsync(file, secret, "Bearer " + alice);
        Assert.True(asAlice.Reached);
        Assert.Equal("alice", asAlice.Context.Items[AccessControl.PrincipalItem]);

        var none = await InvokeAsync(file, secret, null);
        Assert.True(none.Reached);

        // Not an origin path: the same origin credential is refused here.
        var other = await InvokeAsync(file, "/git.corp.example/other/@v/v1.0.0.zip", "Basic " + Convert.ToBase64String("dev:ghp_origin-password"u8));
        Assert.False(other.Reached);
        Assert.Equal(401, other.Context.Response.StatusCode);
    }
}
