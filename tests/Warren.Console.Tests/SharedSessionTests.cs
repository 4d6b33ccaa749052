using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using Warren.Server;
using Warren.Testing.Services;

namespace Warren.WebConsole.Tests;

/// <summary>A Warren whose index is a PostgreSQL database of its own, for nodes that share it.</summary>
public sealed class SharedIndexFixture : ConsoleFixture
{
    private PostgresServer? _postgres;

    protected override Task<ConsoleServer> StartServerAsync()
    {
        _postgres = new PostgresServer();
        var name = "console_" + Guid.NewGuid().ToString("N")[..16];
        using (var connection = new NpgsqlConnection(_postgres.ConnectionString))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            create.ExecuteNonQuery();
        }

        var index = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString) { Database = name }.ConnectionString;
        return ConsoleServer.StartAsync(["github.com/pkg/errors"], options: o => o.Index = index);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _postgres?.Dispose();
    }
}

/// <summary>Two Warren nodes, a PostgreSQL database and a browser are more than 2 cores carry beside the other console
/// tests (their page loads then time out): this collection runs alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedIndexCollection : ICollectionFixture<SharedIndexFixture>
{
    public const string Name = "shared index, alone";
}

/// <summary>Two nodes sharing one index behind a load balancer (the browser sends its cookies to both: cookies are per
/// host, not per port): a person signed in on one node is signed in on the other, a form served by one node is accepted
/// by the other, and a sign-out on either ends the session on both.</summary>
[Collection(SharedIndexCollection.Name)]
public sealed partial class SharedSessionTests(SharedIndexFixture fixture)
{
    [Fact]
    public async Task A_sign_in_on_one_node_holds_on_the_other_and_a_sign_out_posted_there_ends_it_on_both()
    {
        await using var peer = await fixture.Server.StartPeerAsync();
        var peerUrl = WarrenHost.Addresses(peer).First(a => a.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/');
        Assert.NotEqual(fixture.Server.Url, peerUrl);

        var page = await fixture.NewPageAsync();
        await ConsoleFixture.SignInAsync(page, fixture.Server.AdminToken);
        await Assertions.Expect(page.Locator(".who")).ToContainTextAsync("ops (admin)");
        var session = await ConsoleFixture.SessionCookieAsync(page);
        Assert.NotNull(session);

        // The other node knows the session: the overview, not the sign-in page.
        await page.GotoAsync(peerUrl + "/ui");
        Assert.Equal(peerUrl + "/ui", page.Url);
        await Assertions.Expect(page.Locator(".who")).ToContainTextAsync("ops (admin)");

        // The sign-out form served by the first node, posted to the other (its anti-forgery token and cookie included).
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        var cookies = (await page.Context.CookiesAsync()).ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
        using var get = new HttpRequestMessage(HttpMethod.Get, fixture.Server.Url + "/ui/signout");
        get.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => c.Key + "=" + c.Value)));
        using var formPage = await client.SendAsync(get);
        Assert.Equal(200, (int)formPage.StatusCode);
        foreach (var set in formPage.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = set.Split(';')[0].Split('=', 2);
            cookies[pair[0]] = pair[1];
        }

        var html = await formPage.Content.ReadAsStringAsync();
        // The page's own sign-out form (the header has one too): its hidden fields.
        var form = FormBlock().Matches(html).Select(m => m.Value).Last(f => f.Contains("value=\"signout\"", StringComparison.Ordinal));
        var fields = HiddenInput().Matches(form)
            .Select(m => (Name: AttributeValue(m.Value, "name"), Value: System.Net.WebUtility.HtmlDecode(AttributeValue(m.Value, "value"))))
            .Where(f => f.Name.Length > 0)
            .ToList();
        Assert.Contains(fields, f => f.Name == "__warren_antiforgery" && f.Value.Length > 0);

        using var post = new HttpRequestMessage(HttpMethod.Post, peerUrl + "/ui/signout")
        {
            Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        post.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => c.Key + "=" + c.Value)));
        using var signedOut = await client.SendAsync(post);
        Assert.True(302 == (int)signedOut.StatusCode, $"{(int)signedOut.StatusCode}: {await signedOut.Content.ReadAsStringAsync()} fields: {string.Join(", ", fields.Select(f => f.Name))}");
        Assert.Contains("/ui/signin?signedout=1", signedOut.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Ended on both nodes: the same cookie now meets the sign-in page on each.
        foreach (var url in new[] { fixture.Server.Url, peerUrl })
        {
            using var again = new HttpRequestMessage(HttpMethod.Get, url + "/ui");
            again.Headers.Add("Cookie", session);
            using var response = await client.SendAsync(again);
            Assert.Equal(302, (int)response.StatusCode);
            Assert.Contains("/ui/signin?return=", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        await page.Context.CloseAsync();
    }

    private static string AttributeValue(string tag, string name) =>
        Regex.Match(tag, "\\s" + name + "=\"([^\"]*)\"") is { Success: true } m ? m.Groups[1].Value : "";

    [GeneratedRegex("<form[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormBlock();

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*>")]
    private static partial Regex HiddenInput();
}
