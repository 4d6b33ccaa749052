using System.Text;
using Warren.Fetch.Direct.Discovery;
using Warren.Fetch.Direct.Git;
using Warren.Fetch.Direct.Repo;

namespace Warren.Fetch.Direct;

public enum DirectKind
{
    List,
    Latest,
    Info,
    Mod,
    Zip,
}

/// <summary>The answer of a direct fetch; when the module's prefix is served by a GOPROXY (go-import vcs "mod"),
/// <see cref="ModProxy"/> names it and the caller fetches from there.</summary>
public sealed record DirectFetch(DirectResult Result, Uri? ModProxy = null);

/// <summary>`direct`: discovery, then one git mirror per repository, then the module view of the go command.</summary>
public sealed class DirectFetcher
{
    private readonly RepoDiscovery _discovery;
    private readonly GitMirrorManager _mirrors;
    private readonly GitRunner _git;
    private readonly TimeSpan _commandTimeout;
    private readonly MirrorMemos _memos;

    public DirectFetcher(RepoDiscovery discovery, GitMirrorManager mirrors, GitRunner git, TimeSpan commandTimeout)
    {
        _discovery = discovery;
        _mirrors = mirrors;
        _git = git;
        _commandTimeout = commandTimeout;
        _memos = new MirrorMemos(mirrors.Stopping);
    }

    /// <summary>Writes the answer (list text, .info JSON, go.mod bytes or the zip) to destination.</summary>
    public async Task<DirectFetch> FetchAsync(string modulePath, string? version, DirectKind kind, string destination, CancellationToken cancellationToken)
    {
        var (root, resolved) = await _discovery.ResolveAsync(modulePath, cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return new DirectFetch(resolved);
        }

        if (root.Vcs == "mod")
        {
            return new DirectFetch(DirectResult.Success, new Uri(root.Url));
        }

        if (root.Vcs != "git")
        {
            return new DirectFetch(DirectResult.NotFound($"{root.Root}: unsupported version control system {root.Vcs}"));
        }

        // Held while the mirror is read, so pruning never deletes it under us.
        using var lease = _mirrors.Use(root.Url);

        // A version's first request need not wait for a large repository's whole history: it may read a shallow copy.
        var access = kind is DirectKind.Info or DirectKind.Mod or DirectKind.Zip
            ? await _mirrors.EnsureOrShallowAsync(root.Url, cancellationToken).ConfigureAwait(false)
            : await EnsureAsync(root.Url, cancellationToken).ConfigureAwait(false);
        using var shallow = access.Shallow;
        IGitRepository repo;
        if (shallow is not null)
        {
            repo = new ShallowFirstRepository(shallow.Clone, async cancel =>
            {
                var complete = await EnsureAsync(root.Url, cancel).ConfigureAwait(false);
                return complete.GitDirectory is null ? throw new RepoException(complete.Result.Status, complete.Result.Message) : Mirror(root.Url, complete.GitDirectory);
            });
        }
        else if (access.GitDirectory is null)
        {
            return new DirectFetch(access.Result);
        }
        else
        {
            repo = Mirror(root.Url, access.GitDirectory);
        }

        var code = new CodeRepo(repo, modulePath, root.Root);
        switch (kind)
        {
            case DirectKind.List:
            {
                var list = await code.ListAsync(cancellationToken).ConfigureAwait(false);
                return await WriteAsync(list.Result, list.Value is null ? null : Encoding.UTF8.GetBytes(string.Concat(list.Value.Select(v => v + "\n"))), destination, cancellationToken).ConfigureAwait(false);
            }

            case DirectKind.Latest:
            {
                var latest = await code.LatestAsync(cancellationToken).ConfigureAwait(false);
                return await WriteAsync(latest.Result, latest.Value is null ? null : Encoding.UTF8.GetBytes(latest.Value.ToInfoJson()), destination, cancellationToken).ConfigureAwait(false);
            }

            case DirectKind.Info:
            {
                var info = await code.InfoJsonAsync(version!, cancellationToken).ConfigureAwait(false);
                return await WriteAsync(info.Result, info.Value is null ? null : Encoding.UTF8.GetBytes(info.Value), destination, cancellationToken).ConfigureAwait(false);
            }

            case DirectKind.Mod:
            {
                var mod = await code.GoModAsync(version!, cancellationToken).ConfigureAwait(false);
                return await WriteAsync(mod.Result, mod.Value, destination, cancellationToken).ConfigureAwait(false);
            }

            default:
                return new DirectFetch(await code.ZipAsync(version!, destination, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task<MirrorAccess> EnsureAsync(string url, CancellationToken cancellationToken)
    {
        var (gitDir, result) = await _mirrors.EnsureAsync(url, cancellationToken).ConfigureAwait(false);
        return new MirrorAccess(gitDir, null, result);
    }

    // What earlier requests read from a mirror holds until the mirror changes.
    private IGitRepository Mirror(string url, string gitDir)
        => _memos.Wrap(new LocalGitRepository(gitDir, _git, _mirrors.RefreshDelegate(url), _commandTimeout), () => _mirrors.GenerationOf(url));

    private static async Task<DirectFetch> WriteAsync(DirectResult result, byte[]? body, string destination, CancellationToken cancellationToken)
    {
        if (result.Status != DirectStatus.Ok || body is null)
        {
            return new DirectFetch(result.Status == DirectStatus.Ok ? DirectResult.Failed("empty answer") : result);
        }

        await File.WriteAllBytesAsync(destination, body, cancellationToken).ConfigureAwait(false);
        return new DirectFetch(DirectResult.Success);
    }
}
