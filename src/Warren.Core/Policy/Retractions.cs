using Warren.Core.Modules;

namespace Warren.Core.Policy;

/// <summary>The retract directives of a module's latest go.mod, and the version that go.mod belongs to.</summary>
public sealed class Retractions
{
    public Retractions(string latestVersion, IReadOnlyList<GoModRetract> retracts)
    {
        LatestVersion = latestVersion;
        Retracts = retracts;
    }

    /// <summary>No retractions known.</summary>
    public static Retractions None { get; } = new("", []);

    public string LatestVersion { get; }

    public IReadOnlyList<GoModRetract> Retracts { get; }

    /// <summary>The directive retracting version (Low ≤ version ≤ High), or null.</summary>
    public GoModRetract? Find(string version)
    {
        foreach (var r in Retracts)
        {
            if (SemVer.Compare(version, r.Low) >= 0 && SemVer.Compare(version, r.High) <= 0)
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>The retractions in a go.mod's bytes (a malformed go.mod retracts nothing).</summary>
    public static Retractions FromGoMod(string latestVersion, ReadOnlySpan<byte> goMod)
    {
        try
        {
            var file = GoModFile.ParseLax("go.mod", goMod);
            return file.Retracts.Count == 0 ? new Retractions(latestVersion, []) : new Retractions(latestVersion, file.Retracts);
        }
        catch (GoModParseException)
        {
            return new Retractions(latestVersion, []);
        }
    }
}
