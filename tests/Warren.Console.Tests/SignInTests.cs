using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Warren.WebConsole.Tests;

/// <summary>Sign-in, the overview's counts, sign-out, in a real browser, with and without JavaScript.</summary>
public sealed class SignInTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SignIn_ShowsTheStoreCounts_SignOut_EndsTheSessionOnTheServer(bool javaScript)
    {
        var page = await fixture.NewPageAsync(javaScript);

        // Not signed in: the overview sends to the sign-in page.
        var first = await page.GotoAsync("/ui");
        Assert.EndsWith("/ui/signin?return=%2Fui", page.Url, StringComparison.Ordinal);
        Assert.Equal(200, first!.Status);

        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken);
        Assert.EndsWith("/ui", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Exact = true })).ToBeVisibleAsync();

        var versions = fixture.Server.Filled.Count;
        var modules = fixture.Server.Filled.Select(f => f.Module).Distinct().Count();
        Assert.Equal(modules.ToString("N0", CultureInfo.InvariantCulture), await page.Locator("#stat-modules").InnerTextAsync());
        Assert.Equal(versions.ToString("N0", CultureInfo.InvariantCulture), await page.Locator("#stat-versions").InnerTextAsync());
        Assert.Matches(new Regex(@"^\d+(\.\d)? (KiB|MiB)$"), await page.Locator("#stat-bytes").InnerTextAsync());
        await Assertions.Expect(page.Locator(".who")).ToContainTextAsync("ops (admin)");

        var cookie = await ConsoleFixture.SessionCookieAsync(page);
        Assert.NotNull(cookie);
        var cookies = await page.Context.CookiesAsync();
        var session = cookies.Single(c => c.Name == ConsoleFixture.ConsoleSessionsCookie);
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);

        // The cookie works outside the browser too (it names the session)...
        var (status, _, _) = await fixture.Server.GetAsync("/ui", cookie);
        Assert.Equal(200, status);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/ui/signin?signedout=1");
        await Assertions.Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
        Assert.Null(await ConsoleFixture.SessionCookieAsync(page));

        // ...and no more once signed out: the session is gone on the server.
        var (after, _, response) = await fixture.Server.GetAsync("/ui", cookie);
        Assert.Equal(302, after);
        Assert.Contains("/ui/signin?return=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AWrongToken_IsRefusedWithItsReason()
    {
        var page = await fixture.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, "wrn_0000000000000000_notatoken");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown or revoked token");
        Assert.Null(await ConsoleFixture.SessionCookieAsync(page));
        await page.Context.CloseAsync();
    }
}
