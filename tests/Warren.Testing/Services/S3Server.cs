namespace Warren.Testing.Services;

/// <summary>An S3-compatible server on loopback for tests: the one scripts/test.sh started (WARREN_TEST_S3_ENDPOINT,
/// WARREN_TEST_S3_BUCKET, WARREN_TEST_S3_ACCESS_KEY, WARREN_TEST_S3_SECRET_KEY), else one of its own started with
/// shared/services/s3.sh and stopped on dispose. Sets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for this process,
/// since stores take credentials only from the SDK's standard chain. A server that cannot be started is a failure,
/// never a skip.</summary>
public sealed class S3ServerFixture : IDisposable
{
    private readonly string? _ownDir;

    public S3ServerFixture()
    {
        var endpoint = Environment.GetEnvironmentVariable("WARREN_TEST_S3_ENDPOINT");
        string accessKey, secretKey;
        if (!string.IsNullOrEmpty(endpoint))
        {
            Endpoint = endpoint;
            Bucket = Environment.GetEnvironmentVariable("WARREN_TEST_S3_BUCKET") is { Length: > 0 } b ? b : "warren";
            accessKey = Environment.GetEnvironmentVariable("WARREN_TEST_S3_ACCESS_KEY") is { Length: > 0 } a ? a : "S3RVER";
            secretKey = Environment.GetEnvironmentVariable("WARREN_TEST_S3_SECRET_KEY") is { Length: > 0 } s ? s : "S3RVER";
        }
        else
        {
            var script = TestPaths.SharedFile("services", "s3.sh");
            ProcessResult result;
            try
            {
                result = Processes.RunAsync("bash", null, null, [script, "start"], timeout: TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is TimeoutException or System.ComponentModel.Win32Exception)
            {
                throw new InvalidOperationException($"cannot start the S3 test server with {script}: {ex.Message}", ex);
            }

            var values = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            _ownDir = values.GetValueOrDefault("S3_DIR");
            if (result.ExitCode != 0 || !values.TryGetValue("S3_ENDPOINT", out var started))
            {
                Stop();
                throw new InvalidOperationException($"cannot start the S3 test server with {script} (set WARREN_TEST_S3_ENDPOINT to use a running one): {result}");
            }

            Endpoint = started;
            Bucket = values.GetValueOrDefault("S3_BUCKET") ?? "warren";
            accessKey = values.GetValueOrDefault("S3_ACCESS_KEY") ?? "S3RVER";
            secretKey = values.GetValueOrDefault("S3_SECRET_KEY") ?? "S3RVER";
        }

        var uri = new Uri(Endpoint);
        if (!uri.IsLoopback)
        {
            throw new InvalidOperationException($"the S3 test server must be on loopback, not {uri.Host}");
        }

        using (var probe = new System.Net.Sockets.TcpClient())
        {
            try
            {
                if (!probe.ConnectAsync(uri.Host, uri.Port).Wait(TimeSpan.FromSeconds(10)))
                {
                    throw new TimeoutException("no answer in 10 s");
                }
            }
            catch (Exception ex) when (ex is TimeoutException or AggregateException or System.Net.Sockets.SocketException)
            {
                Stop();
                throw new InvalidOperationException($"the S3 test server at {Endpoint} does not answer ({ex.GetBaseException().Message}); unset WARREN_TEST_S3_ENDPOINT to have one started", ex);
            }
        }

        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", accessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", secretKey);
    }

    /// <summary>The server's URL (http://127.0.0.1:PORT); use path-style addressing.</summary>
    public string Endpoint { get; }

    /// <summary>A bucket that exists.</summary>
    public string Bucket { get; }

    /// <summary>A prefix no other test uses ("test-XXXXXXXXXX/").</summary>
    public static string NewPrefix() => "test-" + Guid.NewGuid().ToString("N")[..10] + "/";

    public void Dispose() => Stop();

    private void Stop()
    {
        if (_ownDir is not null)
        {
            try
            {
                Processes.RunAsync("bash", null, null, [TestPaths.SharedFile("services", "s3.sh"), "stop", _ownDir], timeout: TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
