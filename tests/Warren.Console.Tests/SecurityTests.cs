using System.Net;
using System.Text.RegularExpressions;

namespace Warren.WebConsole.Tests;

/// <summary>Hostile input, anti-forgery, and the life of a session cookie (sign-out, expiry, a revoked token).</summary>
public sealed partial class SecurityTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Theory]
    [InlineData("/ui/modules?q=%00%01", 400)]
    [InlineData("/ui/modules?q=%E2%80%AE%1B%5B31m", 400)]
    [InlineData("/api/modules?q=%00", 400)]
    [InlineData("/ui/modules/..%2F..%2Fetc%2Fpasswd", 400)]
    [InlineData("/ui/modules/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400)]
    [InlineData("/ui/modules/github.com/pkg/errors/@v/not-a-version", 400)]
    [InlineData("/ui/modules/github.com/pkg/errors/@v/v0.9.1%00", 400)]
    [InlineData("/api/modules/github.com/pkg/errors/@v/..%2F..", 400)]
    [InlineData("/ui/modules/github.com/pkg/errors/@v/v9.9.9", 404)]
    [InlineData("/ui/no/such/page", 404)]
    [InlineData("/ui/static/..%2F..%2Fappsettings.json", 404)]
    public async Task HostileInput_GetsAClear4xx_NeverAStackTrace(string path, int expected)
    {
        var (status, body, _) = await fixture.Server.GetAsync(path, bearer: fixture.Server.AdminToken);
        Assert.Equal(expected, status);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongSearch_IsRefusedWithItsReason()
    {
        var (status, body, _) = await fixture.Server.GetAsync("/ui/modules?q=" + new string('a', 300), bearer: fixture.Server.AdminToken);
        Assert.Equal(400, status);
        Assert.Contains("search text too long (300 characters; at most 256)", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFormPostWithoutItsAntiforgeryToken_IsRefused()
    {
        foreach (var (path, form) in new[]
                 {
                     ("/ui/signin", new Dictionary<string, string> { ["_handler"] = "signin", ["Token"] = fixture.Server.AdminToken }),
                     ("/ui/signout", new Dictionary<string, string> { ["_handler"] = "signout" }),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
            using var response = await fixture.Server.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("anti-forgery token is missing or invalid", body, StringComparison.Ordinal);
            Assert.DoesNotContain("\n   at ", body, StringComparison.Ordinal);
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("warren_session=", StringComparison.Ordinal) && !c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)));
        }
    }

    [Fact]
    public async Task AStolenCookie_StopsWorkingAtExpiry_AndWhenItsTokenIsRevoked()
    {
        // A Warren of its own: sessions of one second, and a principal to revoke.
        await using var server = await ConsoleServer.StartAsync([], c => c.SessionLifetime = TimeSpan.FromSeconds(1));
        var cookie = await SignInOverHttpAsync(server, server.AdminToken);
        Assert.Equal(200, (await server.GetAsync("/ui", cookie)).Status);
        await Poll(async () => (await server.GetAsync("/ui", cookie)).Status == 302, "the session did not expire");
        Assert.Equal(401, (await server.GetAsync("/api/overview", cookie)).Status);

        var revocable = ConsoleServer.AddPrincipal(server.AuthFilePath, "temp", "*");
        await using var longer = await ConsoleServer.StartAsync([]);
        var temp = ConsoleServer.AddPrincipal(longer.AuthFilePath, "temp", "*");
        var tempCookie = await SignInOverHttpAsync(longer, temp);
        Assert.Equal(200, (await longer.GetAsync("/api/overview", tempCookie)).Status);
        Warren.Server.Auth.AuthFile.Edit(longer.AuthFilePath, doc => doc.Principals.RemoveAll(p => p.Name == "temp"));
        await Poll(async () => (await longer.GetAsync("/api/overview", tempCookie)).Status == 401, "the revoked token's session still works");
        Assert.NotEmpty(revocable);
    }

    /// <summary>Signs in as a browser would (the form's anti-forgery field and cookie); returns the Cookie header value.</summary>
    internal static async Task<string> SignInOverHttpAsync(ConsoleServer server, string token)
    {
        var (status, page, response) = await server.GetAsync("/ui/signin");
        Assert.Equal(200, status);
        var antiforgeryCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("warren_antiforgery=", StringComparison.Ordinal)).Split(';')[0];
        var field = AntiforgeryField().Match(page).Groups[1].Value;
        using var post = new HttpRequestMessage(HttpMethod.Post, "/ui/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__warren_antiforgery"] = WebUtility.HtmlDecode(field),
                ["_handler"] = "signin",
                ["Token"] = token,
                ["Return"] = "/ui",
            }),
        };
        post.Headers.Add("Cookie", antiforgeryCookie);
        using var signedIn = await server.Client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("warren_session=", StringComparison.Ordinal)).Split(';')[0];
    }

    private static async Task Poll(Func<Task<bool>> condition, string failure)
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, failure);
            await Task.Delay(100);
        }
    }

    [GeneratedRegex("name=\"__warren_antiforgery\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
