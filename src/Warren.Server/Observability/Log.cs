using Warren.Server.Auth;
using Warren.Server.Upstream;

namespace Warren.Server.Observability;

/// <summary>Source-generated structured log messages with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Warren serving store {Root} with upstream {Upstream}, sumdb {SumDb}")]
    public static partial void Starting(ILogger logger, string root, string upstream, string sumDb);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Removed {Count} leftover staging files from an earlier run")]
    public static partial void CleanedStaging(ILogger logger, int count);

    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Upstream {Request} from {Source}: {Outcome} in {ElapsedMs:0.0} ms {Reason}")]
    public static partial void UpstreamFetch(ILogger logger, string request, string source, FetchStatus outcome, double elapsedMs, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Upstream failed for {Request}; serving the stale copy: {Reason}")]
    public static partial void ServingStale(ILogger logger, string request, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Upstream failed for {Request}: {Status} {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string request, FetchStatus status, string reason);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Stored {Request} ({Bytes} bytes, {Hash}) from {Source}")]
    public static partial void Stored(ILogger logger, string request, long bytes, string hash, string source);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Refused {Request} from {Source}: {Reason}")]
    public static partial void Rejected(ILogger logger, string request, string source, string reason);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "Cut short the streamed zip of {Version} after {Bytes} bytes: {Reason}")]
    public static partial void StreamedZipCut(ILogger logger, string version, long bytes, string reason);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Request {Path} failed")]
    public static partial void Unhandled(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "Refused a request that looped back to this instance: {Path}")]
    public static partial void LoopDetected(ILogger logger, string path);

    [LoggerMessage(EventId = 5000, Level = LogLevel.Error, Message = "Refused {Module}@{Version} from {Source}: {Reason}")]
    public static partial void ChecksumMismatch(ILogger logger, string module, string version, string source, string reason);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Critical, Message = "Checksum database {Database} misbehaves (forked log); refusing to trust it: {Reason}")]
    public static partial void SumDbFork(ILogger logger, string database, string reason);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Could not verify {Module}@{Version} against checksum database {Database}: {Reason}")]
    public static partial void VerificationFailed(ILogger logger, string module, string version, string database, string reason);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Hosting checksum database {Database} ({Size} records) in {Location}")]
    public static partial void HostedOpened(ILogger logger, string database, long size, string location);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Hosted checksum database {Database} already holds other hashes for {Module}@{Version} ({Existing}); not logging {Offered}")]
    public static partial void HostedConflict(ILogger logger, string database, string module, string version, string existing, string offered);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Could not log {Module}@{Version} in hosted checksum database {Database}")]
    public static partial void HostedAppendFailed(ILogger logger, string module, string version, string database, Exception exception);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Hosted checksum database {Database}: the log in files under {Directory} was moved into the index {Index} ({Status})")]
    public static partial void HostedImported(ILogger logger, string database, string directory, string status, string index);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Hosted checksum database {Database} logs public modules on first use, unverified: no public checksum database is configured (--sumdb off)")]
    public static partial void HostedUnverifiedPublic(ILogger logger, string database);

    // --- Access control and rate limiting (6000-6099) ---

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Access control on: auth file {Path} with {Count} principals")]
    public static partial void AuthFileLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Auth file {Path} reloaded: {Count} principals")]
    public static partial void AuthFileReloaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Auth file {Path} changed but cannot be used; keeping the last good version: {Reason}")]
    public static partial void AuthFileReloadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Warren listens on {Listen}, not a loopback address, without an auth file: anyone who can reach it reads every module it can fetch, private ones included (give --auth-file)")]
    public static partial void OpenWithoutAuth(ILogger logger, string listen);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Denied {Principal} {Module} {Artifact}: {Status} {Reason} (identical refusals since the last such line: {Repeats})")]
    public static partial void AccessDenied(ILogger logger, string principal, string module, string artifact, int status, string reason, long repeats);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Served private {Module} {Artifact} to {Principal}: {Status} (identical answers since the last such line: {Repeats})")]
    public static partial void PrivateServed(ILogger logger, string principal, string module, string artifact, int status, long repeats);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Debug, Message = "Rate limited {Partition}: 429, retry after {RetryAfter} s")]
    public static partial void RateLimited(ILogger logger, string partition, long retryAfter);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Admin listener on {Listen} serves /metrics without a token")]
    public static partial void AdminListener(ILogger logger, string listen);

    // --- Origin authorization (6100-6199); the principal is the Basic user name, the password is never an argument ---

    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Origin-authorized {Artifact} of {Module} served to {Principal}: {Status}")]
    public static partial void OriginServed(ILogger logger, string principal, string module, string artifact, int status);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Denied {Artifact} of {Module} to {Principal}: {Status} {Reason}")]
    public static partial void OriginDenied(ILogger logger, string principal, string module, string artifact, int status, string reason);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Could not check {Principal}'s access to the origin of {Module} ({Repository}): {Reason}")]
    public static partial void OriginCheckFailed(ILogger logger, string principal, string module, string repository, string reason);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Debug, Message = "Checked {Principal}'s access to {Repository} with git ls-remote: {Verdict} in {ElapsedMs:0.0} ms")]
    public static partial void OriginChecked(ILogger logger, string principal, string repository, OriginVerdict verdict, double elapsedMs);

    // --- Outbound policy (6200-6299) ---

    [LoggerMessage(EventId = 6200, Level = LogLevel.Warning, Message = "Egress refused {Host}:{Port} {Address} ({Reason}): {Detail}")]
    public static partial void EgressDenied(ILogger logger, string host, int port, string address, string reason, string detail);

    [LoggerMessage(EventId = 6201, Level = LogLevel.Debug, Message = "Direct mode refused for {Module}: it does not match --direct {Patterns}")]
    public static partial void DirectNotAllowed(ILogger logger, string module, string patterns);

    // --- Hardened git and upstream credentials (6300-6399); every argument is free of secrets ---

    [LoggerMessage(EventId = 6300, Level = LogLevel.Information, Message = "git runs with the private home {Home} and the global configuration {GitConfig}; the user's git configuration and .netrc are not read")]
    public static partial void GitHardened(ILogger logger, string home, string gitConfig);

    [LoggerMessage(EventId = 6301, Level = LogLevel.Information, Message = "Upstream {Upstream} gets HTTP Basic credentials from {CredentialSource}")]
    public static partial void UpstreamCredentials(ILogger logger, string upstream, string credentialSource);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Warning, Message = "Upstream {Upstream} is plain http: its .netrc entry is not sent (UpstreamCredentialsOverHttp allows it)")]
    public static partial void UpstreamCredentialsWithheld(ILogger logger, string upstream);

    // --- Resource limits and store hygiene (6400-6499) ---

    [LoggerMessage(EventId = 6400, Level = LogLevel.Error, Message = "Metadata index {Path} is corrupt ({Reason}); moved it to {Aside} and started a new one, refilled from the store")]
    public static partial void IndexCorrupt(ILogger logger, string path, string aside, string reason);

    [LoggerMessage(EventId = 6401, Level = LogLevel.Information, Message = "Metadata index {Path} refilled from the store: {Count} artifacts")]
    public static partial void IndexRebuilt(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6402, Level = LogLevel.Error, Message = "Refilling metadata index {Path} from the store failed")]
    public static partial void IndexRebuildFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 6403, Level = LogLevel.Warning, Message = "Rebuilt the missing .ziphash of {Module}@{Version}: {Hash}")]
    public static partial void ZipHashRebuilt(ILogger logger, string module, string version, string hash);

    [LoggerMessage(EventId = 6404, Level = LogLevel.Debug, Message = "Pruned {Count} cached answers from the metadata index")]
    public static partial void AnswersPruned(ILogger logger, int count);

    [LoggerMessage(EventId = 6405, Level = LogLevel.Warning, Message = "Store maintenance failed")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6500, Level = LogLevel.Warning, Message = "Serving {Request} from {Source} although {Difference}: no checksum database vouches for either (sumdb policy skip)")]
    public static partial void ModDiffersFromZip(ILogger logger, string request, string source, string difference);

    [LoggerMessage(EventId = 6600, Level = LogLevel.Information, Message = "Took over the cluster lease of {Key} (fencing token {Token}) after its holder stopped")]
    public static partial void LeaseTakenOver(ILogger logger, string key, long token);

    [LoggerMessage(EventId = 6601, Level = LogLevel.Warning, Message = "Lost the cluster lease of {Key} (fencing token {Token}) while working; another node may fetch it too")]
    public static partial void LeaseLost(ILogger logger, string key, long token);

    [LoggerMessage(EventId = 6602, Level = LogLevel.Warning, Message = "Could not renew the cluster lease of {Key}")]
    public static partial void LeaseRenewFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 6700, Level = LogLevel.Information, Message = "Followed {Feed}: {Fetched} fetched, {Present} already stored, {Skipped} not matching, {Failed} failed, {Bytes} bytes; position {Cursor}")]
    public static partial void FollowPass(ILogger logger, string feed, int fetched, int present, int skipped, int failed, long bytes, string cursor);

    [LoggerMessage(EventId = 6701, Level = LogLevel.Warning, Message = "Following {Feed}: {Module}@{Version} failed after {Attempts} attempts: {Reason}")]
    public static partial void FollowVersionFailed(ILogger logger, string feed, string module, string version, int attempts, string reason);

    [LoggerMessage(EventId = 6702, Level = LogLevel.Warning, Message = "Following {Feed} failed: {Reason}; trying again in {Interval}")]
    public static partial void FollowFailed(ILogger logger, string feed, string reason, TimeSpan interval);

    [LoggerMessage(EventId = 7700, Level = LogLevel.Information, Message = "Local copies of stored objects: {Count} kept from before in {Directory} (budget {Budget} bytes)")]
    public static partial void LocalCacheLoaded(ILogger logger, int count, string directory, long budget);

    [LoggerMessage(EventId = 7701, Level = LogLevel.Warning, Message = "Could not make a local copy of {Key}: {Reason}; it is served from the store")]
    public static partial void LocalCopyFailed(ILogger logger, string key, string reason);
}
