namespace Warren.Testing.Services;

/// <summary>A PostgreSQL server for tests: the one named by WARREN_TEST_POSTGRES (scripts/test.sh starts one for the
/// whole run), else a throwaway cluster started here with shared/services/postgres.sh and stopped on dispose. Never
/// skips: when neither works, creating it fails with what to do. Tests isolate themselves by schema
/// (<see cref="NewSchemaName"/>), so one server serves them all.</summary>
public sealed class PostgresServer : IDisposable
{
    /// <summary>The variable naming a running server's Npgsql connection string.</summary>
    public const string EnvironmentVariable = "WARREN_TEST_POSTGRES";

    private readonly string? _startedDirectory;

    public PostgresServer()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
        {
            ConnectionString = given;
            return;
        }

        var script = Path.Combine(TestPaths.Shared, "services", "postgres.sh");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"no PostgreSQL for the tests: set {EnvironmentVariable} to a connection string, or provide {script} (set WARREN_SHARED to the shared folder)");
        }

        ProcessResult result;
        try
        {
            result = Processes.RunAsync("bash", null, null, [script, "start"], timeout: TimeSpan.FromMinutes(10)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"no PostgreSQL for the tests: {script} start failed ({e.Message}); set {EnvironmentVariable} to a running server's connection string", e);
        }

        var values = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        values.TryGetValue("PGDATA_DIR", out _startedDirectory);
        if (result.ExitCode != 0 || !values.TryGetValue(EnvironmentVariable, out var connectionString) || connectionString.Length == 0)
        {
            Dispose();
            throw new InvalidOperationException($"no PostgreSQL for the tests: {script} start failed; set {EnvironmentVariable} to a running server's connection string. {result}");
        }

        ConnectionString = connectionString;
    }

    /// <summary>An Npgsql connection string (loopback, trust authentication for a started cluster).</summary>
    public string ConnectionString { get; }

    /// <summary>A schema name no other test uses ("t_" and 32 hex digits).</summary>
    public static string NewSchemaName() => "t_" + Guid.NewGuid().ToString("N");

    /// <summary>Stops and deletes the cluster if this fixture started it.</summary>
    public void Dispose()
    {
        if (_startedDirectory is { Length: > 0 } dir)
        {
            var script = Path.Combine(TestPaths.Shared, "services", "postgres.sh");
            try
            {
                Processes.RunAsync("bash", null, null, [script, "stop", dir], timeout: TimeSpan.FromMinutes(2)).GetAwaiter().GetResult();
            }
            catch (TimeoutException)
            {
                // Leave it: the script's directory is under /tmp and says what it is.
            }
        }
    }
}
