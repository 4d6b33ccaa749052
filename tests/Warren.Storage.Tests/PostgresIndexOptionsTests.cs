using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Warren.Storage.Postgres;

namespace Warren.Storage.Tests;

public sealed class PostgresIndexOptionsTests
{
    [Fact]
    public void A_url_becomes_a_connection_string()
    {
        var options = PostgresIndexOptions.FromSetting("postgres://warren:p%40ss%3Aword@db.example:6543/index?sslmode=verify-full&application_name=warren");
        var b = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal(("db.example", 6543, "warren", "p@ss:word", "index", SslMode.VerifyFull, "warren"),
            (b.Host, b.Port, b.Username, b.Password, b.Database, b.SslMode, b.ApplicationName));
        Assert.Equal("warren", options.Schema);
        Assert.Empty(options.Validate());
        Assert.Equal("db.example:6543/index", options.Location);
        Assert.DoesNotContain("p@ss:word", options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_url_without_port_uses_5432_and_ipv6_hosts_lose_their_brackets()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresIndexOptions.FromSetting("postgresql://u@[::1]/d").ConnectionString);
        Assert.Equal(("::1", 5432, "u", "d"), (b.Host, b.Port, b.Username, b.Database));
        Assert.Null(b.Password);
    }

    [Fact]
    public void A_connection_string_is_taken_as_it_is()
    {
        var options = PostgresIndexOptions.FromSetting("Host=127.0.0.1;Port=5433;Username=postgres;Password=hunter2;Database=warren");
        Assert.Equal("Host=127.0.0.1;Port=5433;Username=postgres;Password=hunter2;Database=warren", options.ConnectionString);
        Assert.Empty(options.Validate());
        Assert.Equal("127.0.0.1:5433/warren", options.Location);
        Assert.DoesNotContain("hunter2", options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_urls_are_refused_without_the_password()
    {
        var e = Assert.Throws<FormatException>(() => PostgresIndexOptions.FromSetting("postgres://u:hunter2@h/d?sslmode=sometimes"));
        Assert.Contains("sslmode", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<FormatException>(() => PostgresIndexOptions.FromSetting("postgres://u:hunter2@h/d?target_session_attrs=any"));
        Assert.Contains("target_session_attrs", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_names_each_problem_on_its_own_line_without_the_password()
    {
        var options = new PostgresIndexOptions { ConnectionString = "Username=u;Password=hunter2", Schema = "Bad-Schema", CommandTimeout = TimeSpan.Zero };
        var problems = options.Validate();
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("no Host", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("no Database", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Bad-Schema", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("timeout", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain('\n', p));
        Assert.All(problems, p => Assert.DoesNotContain("hunter2", p, StringComparison.Ordinal));

        var unreadable = new PostgresIndexOptions { ConnectionString = "Host=h;Password=hunter2;Nonsense Key=1" }.Validate();
        Assert.Single(unreadable);
        Assert.DoesNotContain("hunter2", unreadable[0], StringComparison.Ordinal);
        Assert.Single(new PostgresIndexOptions { ConnectionString = "" }.Validate());
    }

    [Fact]
    public void Passwords_are_redacted_from_urls_and_connection_strings()
    {
        Assert.Equal("postgres://u:***@h/d", PostgresIndexOptions.Redact("postgres://u:hunter2@h/d"));
        Assert.Equal("Host=h;Password=***;Database=d", PostgresIndexOptions.Redact("Host=h;Password=hunter2;Database=d"));
    }

    [Fact]
    public void Registration_refuses_invalid_options_and_provides_every_service()
    {
        var e = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddPostgresIndex(new PostgresIndexOptions { ConnectionString = "Host=h;Password=hunter2" }));
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);

        var services = new ServiceCollection().AddPostgresIndex(PostgresIndexOptions.FromSetting("postgres://u:pw@127.0.0.1:1/d"));
        using var provider = services.BuildServiceProvider();
        var index = provider.GetRequiredService<IModuleIndex>();
        Assert.IsType<PostgresModuleIndex>(index);
        Assert.Same(index, provider.GetRequiredService<PostgresModuleIndex>());
        Assert.IsType<PostgresKeyLock>(provider.GetRequiredService<IKeyLock>());
        Assert.IsType<PostgresLeaseProvider>(provider.GetRequiredService<ILeaseProvider>());
        Assert.Same(provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<NpgsqlDataSource>());
        Assert.Equal("127.0.0.1:1/d", index.Location);
    }
}
