using System.Diagnostics.CodeAnalysis;
using Warren.Core.SumDb;
using Warren.Protocol.SumDb;

namespace Warren.Server.SumDb;

/// <summary>Creates and reads the key files of a hosted checksum database.</summary>
public static class HostedSumDbKey
{
    /// <summary>Whether name can name a hosted database: a note signer name that is also a sumdb name and a file name.</summary>
    public static bool IsValidName(string name) =>
        NoteKeys.IsValidName(name) && SumDbConfig.IsValidName(name) && !name.Contains('/', StringComparison.Ordinal);

    /// <summary>Generates a key pair and writes DIR/NAME.signer (mode 600, the secret) and DIR/NAME.verifier (the
    /// verifier key as GOSUMDB takes it). Refuses to overwrite either file.</summary>
    /// <returns>The paths written and the verifier key.</returns>
    /// <exception cref="ArgumentException">The name is not valid.</exception>
    /// <exception cref="IOException">A file exists already or cannot be written.</exception>
    public static (string SignerFile, string VerifierFile, string VerifierKey) Generate(string name, string directory)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"invalid checksum database name \"{name}\": want a host name such as sum.example.com", nameof(name));
        }

        Directory.CreateDirectory(directory);
        var signerFile = Path.Combine(directory, name + ".signer");
        var verifierFile = Path.Combine(directory, name + ".verifier");
        foreach (var file in new[] { signerFile, verifierFile })
        {
            if (File.Exists(file))
            {
                throw new IOException($"{file} exists already; not overwriting a key");
            }
        }

        var (signer, verifier) = NoteKeys.GenerateKey(name);
        var secret = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            secret.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(signerFile, secret))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(signer + "\n");
        }

        File.WriteAllText(verifierFile, verifier + "\n");
        return (signerFile, verifierFile, verifier);
    }

    /// <summary>Loads and parses a signer key file. It must not be readable by group or others (it is a secret).</summary>
    public static bool TryLoad(string path, [NotNullWhen(true)] out NoteSigner? signer, [NotNullWhen(false)] out string? error)
    {
        signer = null;
        if (!File.Exists(path))
        {
            error = $"signer key file {path} does not exist (create one with: warren sumdb keygen NAME --out DIR)";
            return false;
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                error = $"signer key file {path} is accessible to other users (mode {Convert.ToString((int)mode, 8)}); chmod 600 it";
                return false;
            }
        }

        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"signer key file {path}: {e.Message}";
            return false;
        }

        if (!NoteSigner.TryParse(text, out signer, out var parseError))
        {
            error = $"signer key file {path}: {parseError}";
            return false;
        }

        error = null;
        return true;
    }
}
