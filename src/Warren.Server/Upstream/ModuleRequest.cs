using Warren.Protocol.GoProxy;

namespace Warren.Server.Upstream;

public enum RequestKind
{
    List,
    Latest,
    Info,
    Mod,
    Zip,
}

/// <summary>A request for one thing about one module, in decoded (unescaped) form.</summary>
public sealed record ModuleRequest(string ModulePath, string? Version, RequestKind Kind)
{
    /// <summary>The request's path below a GOPROXY base URL ("github.com/!burnt!sushi/toml/@v/v1.2.0.zip").</summary>
    public string ProxyPath()
    {
        try
        {
            return Kind switch
            {
                RequestKind.List => GoProxyPaths.List(ModulePath),
                RequestKind.Latest => GoProxyPaths.Latest(ModulePath),
                _ => GoProxyPaths.VersionFile(ModulePath, Version ?? "", Kind switch
                {
                    RequestKind.Info => ".info",
                    RequestKind.Mod => ".mod",
                    _ => ".zip",
                }),
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"invalid module request {this}: {e.Message}", e);
        }
    }

    public override string ToString() => Kind switch
    {
        RequestKind.List => ModulePath + "/@v/list",
        RequestKind.Latest => ModulePath + "/@latest",
        _ => $"{ModulePath}@{Version} {Kind.ToString().ToLowerInvariant()}",
    };
}

public static class RequestKindExtensions
{
    public static string Label(this RequestKind kind) => kind switch
    {
        RequestKind.List => "list",
        RequestKind.Latest => "latest",
        RequestKind.Info => "info",
        RequestKind.Mod => "mod",
        _ => "zip",
    };

    /// <summary>Upper bound of what an upstream may send for this kind.</summary>
    public static long MaxBytes(this RequestKind kind) => kind switch
    {
        RequestKind.Zip => ModuleZip.MaxZipFile,
        RequestKind.Mod => ModuleZip.MaxGoMod,
        _ => 16L << 20,
    };
}
