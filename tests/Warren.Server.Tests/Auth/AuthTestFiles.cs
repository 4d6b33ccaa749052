using System.Net.Http.Headers;
using System.Text;
using Warren.Server.Auth;

namespace Warren.Server.Tests.Auth;

/// <summary>Auth files for tests: principals are added through the same code `warren token create` uses, with cheap
/// Argon2 parameters (they are stored in the file, so the server uses them too).</summary>
internal static class AuthTestFiles
{
    public static string NewFile() => Path.Combine(TestPaths.NewTempDir("auth"), "auth.json");

    /// <summary>Adds a principal; returns its token.</summary>
    public static string Add(string file, string name, string grants, bool admin = false, DateTimeOffset? expires = null) =>
        AuthTokens.Create(file, name, grants.Split(',', StringSplitOptions.RemoveEmptyEntries), admin, expires, DateTimeOffset.UtcNow, memoryKiB: 1024, iterations: 1) is { Token: { } token }
            ? token
            : throw new InvalidOperationException("cannot add principal " + name);

    public static void Revoke(string file, string name) => AuthFile.Edit(file, doc => doc.Principals.RemoveAll(p => p.Name == name));

    /// <summary>A go client whose ~/.netrc sends the token as the password for 127.0.0.1.</summary>
    public static GoRunner GoWithToken(string proxy, string? token)
    {
        var go = new GoRunner(proxy);
        if (token is not null)
        {
            File.WriteAllText(Path.Combine(go.Home, ".netrc"), $"machine 127.0.0.1 login x password {token}\n");
        }

        return go;
    }

    public static AuthenticationHeaderValue Basic(string token) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + token)));

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    public static async Task<(int Status, string Body, HttpResponseMessage Response)> GetAsync(HttpClient client, string path, AuthenticationHeaderValue? auth = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = auth;
        var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }
}
