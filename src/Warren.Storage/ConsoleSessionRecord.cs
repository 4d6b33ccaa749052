namespace Warren.Storage;

/// <summary>A web-console sign-in, kept in the index so that every node sharing it knows it. Key is a digest of the
/// secret the browser's cookie holds (never the secret itself), SealedToken the token the session was opened with,
/// sealed with a key derived from that secret (the index alone opens no session and reveals no token), Expires its end.</summary>
public sealed record ConsoleSessionRecord(byte[] Key, string Principal, byte[] SealedToken, DateTimeOffset Expires);
