using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Hosting;
using Warren.Storage;

namespace Warren.WebConsole.Sessions;

/// <summary>The data protection behind the console's anti-forgery tokens, with one key that every node sharing the
/// module index agrees on: the first node to ask stores a random key in the index and every node reads that one. So a
/// form served by one node may be posted to another behind a load balancer, and a restart does not break open forms.
/// Each purpose chain gets its own key (HKDF); payloads are sealed with AES-GCM. The key is read once, at start-up or at
/// first use.</summary>
public sealed class SharedDataProtection(IModuleIndex index, ILogger<SharedDataProtection> logger) : IDataProtectionProvider, IHostedService
{
    /// <summary>The secret's name in the index.</summary>
    public const string SecretName = "console-data-protection";

    private readonly Lock _lock = new();
    private byte[]? _master;

    public IDataProtector CreateProtector(string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        return new Protector(this, purpose);
    }

    /// <summary>Reads (or creates) the key at start-up, so that the first form does not wait for the index. An index
    /// that does not answer now is asked again at first use.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var master = await index.GetOrAddSecretAsync(SecretName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _master ??= master;
            }
        }
        catch (Exception e) when (e is DbException or IOException or TimeoutException or InvalidOperationException)
        {
            Log.KeyUnreadable(logger, e.Message.Split('\n')[0]);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private byte[] Master()
    {
        if (Volatile.Read(ref _master) is { } master)
        {
            return master;
        }

        // Protect and Unprotect are synchronous; this runs at most until the key is read once.
        var read = index.GetOrAddSecretAsync(SecretName, RandomNumberGenerator.GetBytes(32), CancellationToken.None).GetAwaiter().GetResult();
        lock (_lock)
        {
            return _master ??= read;
        }
    }

    private sealed class Protector(SharedDataProtection owner, string purposes) : IDataProtector
    {
        private const byte Format = 1;
        private const int NonceBytes = 12;
        private const int TagBytes = 16;
        private byte[]? _key;

        public IDataProtector CreateProtector(string purpose)
        {
            ArgumentNullException.ThrowIfNull(purpose);
            return new Protector(owner, purposes + "\n" + purpose);
        }

        public byte[] Protect(byte[] plaintext)
        {
            ArgumentNullException.ThrowIfNull(plaintext);
            var output = new byte[1 + NonceBytes + plaintext.Length + TagBytes];
            output[0] = Format;
            var nonce = output.AsSpan(1, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(Key(), TagBytes);
            aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceBytes, plaintext.Length), output.AsSpan(1 + NonceBytes + plaintext.Length));
            return output;
        }

        public byte[] Unprotect(byte[] protectedData)
        {
            ArgumentNullException.ThrowIfNull(protectedData);
            if (protectedData.Length < 1 + NonceBytes + TagBytes || protectedData[0] != Format)
            {
                throw new CryptographicException("the payload was not protected by this console");
            }

            var length = protectedData.Length - 1 - NonceBytes - TagBytes;
            var plain = new byte[length];
            using var aes = new AesGcm(Key(), TagBytes);
            aes.Decrypt(protectedData.AsSpan(1, NonceBytes), protectedData.AsSpan(1 + NonceBytes, length), protectedData.AsSpan(1 + NonceBytes + length), plain);
            return plain;
        }

        private byte[] Key() => _key ??= HKDF.DeriveKey(HashAlgorithmName.SHA256, owner.Master(), 32, salt: null, info: Encoding.UTF8.GetBytes("warren console data protection\n" + purposes));
    }
}
