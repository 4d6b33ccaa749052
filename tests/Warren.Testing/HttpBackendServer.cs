using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Warren.Testing;

/// <summary>A Kestrel app on 127.0.0.1 serving bare repositories through `git http-backend` (CGI), optionally only to
/// requests carrying the expected basic-authentication header, optionally slow; counts requests and concurrency.</summary>
public sealed class HttpBackendServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _active;
    private int _maxActive;
    private int _unauthorized;
    private int _authorized;

    private HttpBackendServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    /// <summary>Added before each request is answered (so git processes live long enough to be observed).</summary>
    public TimeSpan Delay { get; set; }

    public int MaxConcurrentRequests => Volatile.Read(ref _maxActive);

    public int UnauthorizedRequests => Volatile.Read(ref _unauthorized);

    public int AuthorizedRequests => Volatile.Read(ref _authorized);

    /// <summary>Every Authorization header received, as sent.</summary>
    public ConcurrentQueue<string> AuthorizationHeaders { get; } = new();

    /// <summary>The passwords of the Basic Authorization headers received (decoded).</summary>
    public IReadOnlyList<string> BasicPasswords => AuthorizationHeaders
        .Where(h => h.StartsWith("Basic ", StringComparison.Ordinal))
        .Select(h => Encoding.UTF8.GetString(Convert.FromBase64String(h[6..].Trim())))
        .Select(up => up.Contains(':', StringComparison.Ordinal) ? up[(up.IndexOf(':', StringComparison.Ordinal) + 1)..] : up)
        .ToList();

    /// <summary>A private module's repository (a go.mod and one package, tagged version) under dir/repos, served
    /// with basic authentication, and a git config file under dir that reaches it through url.insteadOf for
    /// github.com.</summary>
    public static async Task<(HttpBackendServer Server, string GitConfig)> StartPrivateModuleAsync(string dir, string module, string version,
        string user, string password)
    {
        var repos = Path.Combine(dir, "repos");
        TestGit.CreateUpstream(repos, module + ".git")
            .Write("go.mod", $"module {module}\n\ngo 1.19\n")
            .Write("repo.go", "package repo\n\n// Answer is the answer.\nfunc Answer() int { return 42 }\n")
            .Commit("first", version);
        var server = await StartAsync(repos, user, password).ConfigureAwait(false);
        return (server, TestGit.WriteGitHubInsteadOf(Path.Combine(dir, "gitconfig"), server.BaseUrl));
    }

    /// <summary>Serves the bare repositories under projectRoot (GIT_PROJECT_ROOT); with a user, only to requests carrying
    /// that user's basic-authentication header (others get 401 with a Basic challenge).</summary>
    public static async Task<HttpBackendServer> StartAsync(string projectRoot, string? user = null, string? password = null)
    {
        var expected = user is null ? null : "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        HttpBackendServer? self = null;
        var (app, url) = await LoopbackApp.StartAsync(ctx => self!.HandleAsync(ctx, projectRoot, expected, user)).ConfigureAwait(false);
        self = new HttpBackendServer(app, url);
        return self;
    }

    private async Task HandleAsync(HttpContext ctx, string projectRoot, string? expected, string? user)
    {
        var now = Interlocked.Increment(ref _active);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, now, seen) != seen)
        {
        }

        try
        {
            if (ctx.Request.Headers.Authorization.Count > 0)
            {
                AuthorizationHeaders.Enqueue(ctx.Request.Headers.Authorization.ToString());
            }

            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay);
            }

            if (expected is not null && ctx.Request.Headers.Authorization.ToString() != expected)
            {
                Interlocked.Increment(ref _unauthorized);
                ctx.Response.StatusCode = 401;
                ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"test\"";
                return;
            }

            Interlocked.Increment(ref _authorized);
            await RunBackendAsync(ctx, projectRoot, user);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private static async Task RunBackendAsync(HttpContext ctx, string projectRoot, string? user)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body);
        var psi = new ProcessStartInfo("git")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add("http-backend");
        var env = psi.Environment;
        env["GIT_PROJECT_ROOT"] = projectRoot;
        env["GIT_HTTP_EXPORT_ALL"] = "1";
        env["GIT_CONFIG_NOSYSTEM"] = "1";
        env["GIT_CONFIG_GLOBAL"] = "/dev/null";
        env["REQUEST_METHOD"] = ctx.Request.Method;
        env["PATH_INFO"] = ctx.Request.Path.Value ?? "/";
        env["QUERY_STRING"] = ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value![1..] : "";
        env["CONTENT_TYPE"] = ctx.Request.ContentType ?? "";
        env["CONTENT_LENGTH"] = body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        env["REMOTE_ADDR"] = "127.0.0.1";
        env["SERVER_PROTOCOL"] = "HTTP/1.1";
        env["GATEWAY_INTERFACE"] = "CGI/1.1";
        if (user is not null)
        {
            env["REMOTE_USER"] = user;
        }

        if (ctx.Request.Headers.ContentEncoding.Count > 0)
        {
            env["HTTP_CONTENT_ENCODING"] = ctx.Request.Headers.ContentEncoding.ToString();
        }

        if (ctx.Request.Headers.TryGetValue("Git-Protocol", out var proto))
        {
            env["GIT_PROTOCOL"] = proto.ToString();
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = new MemoryStream();
        var copyOut = p.StandardOutput.BaseStream.CopyToAsync(output);
        await p.StandardInput.BaseStream.WriteAsync(body.ToArray());
        p.StandardInput.Close();
        await copyOut;
        await p.WaitForExitAsync();
        await stderr;

        var bytes = output.ToArray();
        var split = IndexOf(bytes, "\r\n\r\n"u8);
        var sepLength = 4;
        if (split < 0)
        {
            split = IndexOf(bytes, "\n\n"u8);
            sepLength = 2;
        }

        if (split < 0)
        {
            ctx.Response.StatusCode = 500;
            return;
        }

        var status = 200;
        foreach (var line in Encoding.Latin1.GetString(bytes, 0, split).Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                status = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                ctx.Response.Headers.Append(key, value);
            }
        }

        ctx.Response.StatusCode = status;
        var payload = bytes.AsMemory(split + sepLength);
        ctx.Response.ContentLength = payload.Length;
        await ctx.Response.Body.WriteAsync(payload);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    public ValueTask DisposeAsync() => LoopbackApp.StopAsync(_app);
}
