using System.Collections.Concurrent;
using System.Security.Cryptography;
using Warren.Server.Auth;

namespace Warren.WebConsole.Sessions;

/// <summary>The console's sign-ins, kept on the server: the cookie holds only a random id (256 bits) naming a session
/// that holds the token it was opened with and its end. Signing out deletes the session, so a copied cookie stops
/// working then, or at the session's end, or when the token is revoked or expires (the access control checks the token
/// on every request and ends the session). Bounded: at most <see cref="ConsoleOptions.MaxSessions"/> live sessions.</summary>
public sealed class ConsoleSessions(ConsoleOptions options, TimeProvider time, ILogger<ConsoleSessions> logger) : IConsoleSessions
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "warren_session";

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>Live sessions (some may have ended and not been swept yet).</summary>
    public int Count => _sessions.Count;

    /// <summary>Opens a session for an authenticated token and sets its cookie (HttpOnly, SameSite=Strict, Secure over
    /// https). It ends after the configured lifetime, or when the token expires if sooner.</summary>
    public DateTimeOffset Open(HttpContext context, string token, AuthPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(principal);
        var now = time.GetUtcNow();
        var expires = now + options.SessionLifetime;
        if (principal.Expires is { } tokenEnd && tokenEnd < expires)
        {
            expires = tokenEnd;
        }

        if (_sessions.Count >= options.MaxSessions)
        {
            MakeRoom(now);
        }

        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _sessions[id] = new Session(token, principal.Name, expires);
        context.Response.Cookies.Append(CookieName, id, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            Expires = expires,
            IsEssential = true,
        });
        Log.SignedIn(logger, principal.Name, context.Connection.RemoteIpAddress?.ToString() ?? "-", expires);
        return expires;
    }

    /// <inheritdoc/>
    public string? TokenOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var id) || string.IsNullOrEmpty(id) || id.Length > 64 ||
            !_sessions.TryGetValue(id, out var session))
        {
            return null;
        }

        if (time.GetUtcNow() >= session.Expires)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }

        return session.Token;
    }

    /// <inheritdoc/>
    public void End(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.Cookies.TryGetValue(CookieName, out var id) && id is not null && _sessions.TryRemove(id, out var session))
        {
            Log.SessionRevoked(logger, session.Principal);
        }

        if (!context.Response.HasStarted)
        {
            context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });
        }
    }

    /// <summary>Signs out: the session the cookie names is deleted on the server, and the cookie in the browser.</summary>
    public void SignOut(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.Cookies.TryGetValue(CookieName, out var id) && id is not null && _sessions.TryRemove(id, out var session))
        {
            Log.SignedOut(logger, session.Principal);
        }

        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });
    }

    private void MakeRoom(DateTimeOffset now)
    {
        foreach (var (id, s) in _sessions)
        {
            if (now >= s.Expires)
            {
                _sessions.TryRemove(id, out _);
            }
        }

        while (_sessions.Count >= options.MaxSessions)
        {
            var first = _sessions.MinBy(kv => kv.Value.Expires);
            if (first.Key is null || !_sessions.TryRemove(first.Key, out _))
            {
                break;
            }

            Log.SessionsFull(logger, options.MaxSessions);
        }
    }

    private sealed record Session(string Token, string Principal, DateTimeOffset Expires);
}
