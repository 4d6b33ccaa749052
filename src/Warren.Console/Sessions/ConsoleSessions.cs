using System.Buffers.Text;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Warren.Server.Auth;
using Warren.Storage;

namespace Warren.WebConsole.Sessions;

/// <summary>The console's sign-ins, kept in the module index so that every node sharing it honours them: a sign-in on
/// one node works on every other, and a sign-out on any node ends it everywhere. The cookie holds only a random secret
/// (256 bits). The index stores a digest of that secret as the session's key and the token the session was opened with,
/// sealed (AES-GCM) with a key derived from the secret: whoever reads the index can neither present nor open a session.
/// Signing out deletes the session, so a copied cookie stops working then, or at the session's end, or when the token is
/// revoked or expires (the access control checks the token on every request and ends the session). Bounded: at most
/// <see cref="ConsoleOptions.MaxSessions"/> live sessions.</summary>
public sealed class ConsoleSessions(ConsoleOptions options, IModuleIndex index, TimeProvider time, ILogger<ConsoleSessions> logger) : IConsoleSessions
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "warren_session";

    private const int SecretBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] KeyLabel = "warren console session key\n"u8.ToArray();
    private static readonly byte[] SealLabel = "warren console session token"u8.ToArray();

    /// <summary>Opens a session for an authenticated token and sets its cookie (HttpOnly, SameSite=Strict, Secure over
    /// https). It ends after the configured lifetime, or when the token expires if sooner.</summary>
    public async Task<DateTimeOffset> OpenAsync(HttpContext context, string token, AuthPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(principal);
        var now = time.GetUtcNow();
        var expires = now + options.SessionLifetime;
        if (principal.Expires is { } tokenEnd && tokenEnd < expires)
        {
            expires = tokenEnd;
        }

        var secret = RandomNumberGenerator.GetBytes(SecretBytes);
        var record = new ConsoleSessionRecord(KeyOf(secret), principal.Name, Seal(secret, token), expires);
        var dropped = await index.OpenSessionAsync(record, now, options.MaxSessions, context.RequestAborted).ConfigureAwait(false);
        if (dropped > 0)
        {
            Log.SessionsFull(logger, options.MaxSessions);
        }

        context.Response.Cookies.Append(CookieName, Base64Url.EncodeToString(secret), new CookieOptions
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
    public async Task<string?> TokenOfAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (SecretOf(context) is not { } secret)
        {
            return null;
        }

        var key = KeyOf(secret);
        ConsoleSessionRecord? session;
        try
        {
            session = await index.GetSessionAsync(key, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or IOException or TimeoutException or InvalidOperationException && !context.RequestAborted.IsCancellationRequested)
        {
            // The index does not answer: the request goes on as anonymous (and meets the sign-in page), never a 500.
            Log.SessionUnreadable(logger, e.Message.Split('\n')[0]);
            return null;
        }

        if (session is null)
        {
            return null;
        }

        if (time.GetUtcNow() >= session.Expires)
        {
            await index.EndSessionAsync(key, context.RequestAborted).ConfigureAwait(false);
            return null;
        }

        return Open(secret, session.SealedToken);
    }

    /// <inheritdoc/>
    public async Task EndAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await ForgetAsync(context).ConfigureAwait(false) is { } principal)
        {
            Log.SessionRevoked(logger, principal);
        }

        if (!context.Response.HasStarted)
        {
            DeleteCookie(context);
        }
    }

    /// <summary>Signs out: the session the cookie names is deleted from the index (every node stops honouring it), and the
    /// cookie in the browser.</summary>
    public async Task SignOutAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await ForgetAsync(context).ConfigureAwait(false) is { } principal)
        {
            Log.SignedOut(logger, principal);
        }

        DeleteCookie(context);
    }

    /// <summary>Deletes the session the request's cookie names from the index; its principal, or null when there was none.</summary>
    private async Task<string?> ForgetAsync(HttpContext context) =>
        SecretOf(context) is { } secret ? await index.EndSessionAsync(KeyOf(secret), context.RequestAborted).ConfigureAwait(false) : null;

    private static void DeleteCookie(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });

    /// <summary>The secret the request's cookie holds, or null when there is none or it is not one this console issued.</summary>
    private static byte[]? SecretOf(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || value is not { Length: > 0 and <= 64 })
        {
            return null;
        }

        Span<byte> secret = stackalloc byte[48];
        return Base64Url.TryDecodeFromChars(value, secret, out var written) && written == SecretBytes ? secret[..written].ToArray() : null;
    }

    /// <summary>The index's key of a session: a digest of its secret, never the secret.</summary>
    internal static byte[] KeyOf(byte[] secret) => SHA256.HashData([.. KeyLabel, .. secret]);

    internal static byte[] Seal(byte[] secret, string token)
    {
        var plain = Encoding.UTF8.GetBytes(token);
        var sealedToken = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedToken.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(SealKey(secret), TagBytes);
        aes.Encrypt(nonce, plain, sealedToken.AsSpan(NonceBytes, plain.Length), sealedToken.AsSpan(NonceBytes + plain.Length), KeyOf(secret));
        return sealedToken;
    }

    /// <summary>The token a session holds, or null when the sealed value does not open with this secret.</summary>
    internal static string? Open(byte[] secret, byte[] sealedToken)
    {
        if (sealedToken.Length < NonceBytes + TagBytes)
        {
            return null;
        }

        var length = sealedToken.Length - NonceBytes - TagBytes;
        var plain = new byte[length];
        try
        {
            using var aes = new AesGcm(SealKey(secret), TagBytes);
            aes.Decrypt(sealedToken.AsSpan(0, NonceBytes), sealedToken.AsSpan(NonceBytes, length), sealedToken.AsSpan(NonceBytes + length), plain, KeyOf(secret));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] SealKey(byte[] secret) => HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: null, info: SealLabel);
}
