namespace Warren.Core.Modules;

/// <summary>A parsed go.mod (golang.org/x/mod/modfile subset: module, go, require, exclude, replace, retract).</summary>
public sealed class GoModFile
{
    public string? Module { get; init; }

    public static GoModFile Parse(string fileName, string text) => new();

    /// <summary>modfile.ModulePath: the module line's path, or null, without a full parse.</summary>
    public static string? ModulePath(string text) => null;
}
