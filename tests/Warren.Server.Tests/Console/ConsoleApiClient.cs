using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Warren.Server.Tests.ConsoleApi;

/// <summary>Requests to a Warren's console API with a Bearer token (or none), answers as (status, body, JSON).</summary>
internal sealed class ConsoleApiClient(string baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(2) };

    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, string? token, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<(int Status, string Body)> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token);

    /// <summary>GETs a JSON answer that must be 200.</summary>
    public async Task<JsonElement> JsonAsync(string path, string? token)
    {
        var (status, body) = await GetAsync(path, token);
        Assert.True(status == 200, $"GET {path}: {status} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A refusal: the status, and a body that is one line of text (never a stack trace or a problem document).</summary>
    public static void AssertOneLine(int expected, (int Status, string Body) answer, string? contains = null)
    {
        Assert.True(answer.Status == expected, $"want {expected}, got {answer.Status}: {answer.Body}");
        var text = answer.Body.TrimEnd('\n');
        Assert.False(string.IsNullOrWhiteSpace(text), "the refusal has no reason");
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        if (contains is not null)
        {
            Assert.Contains(contains, text, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _http.Dispose();
}
