using System.Net;
using Warren.Server.Tests.Infrastructure;

namespace Warren.Server.Tests.Policy;

/// <summary>An inline policy given only through environment variables (WARREN_POLICY__… and Warren__Policy__…, no file,
/// no appsettings.json object) to a `warren serve` process: it denies as configured, and a malformed one stops start-up.</summary>
public sealed class PolicyEnvironmentTests(PolicyTestModules modules) : IClassFixture<PolicyTestModules>
{
    private const string Lib = PolicyTestModules.Lib;

    [Fact]
    public async Task A_policy_in_environment_variables_denies_as_configured()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["WARREN_POLICY__DENY__0__MODULE"] = "example.com/pol/*",
            ["WARREN_POLICY__DENY__0__VERSIONS"] = ">=v1.2.0 <v1.3.0",
            ["WARREN_POLICY__DENY__0__REASON"] = "denied through the environment",
            ["Warren__Policy__denyRetracted"] = "true",
        };
        using var warren = await WarrenProcess.StartAsync(TestPaths.NewTempDir("policy-env"), modules.Upstream.Url, env);
        using var client = new HttpClient { BaseAddress = new Uri(warren.Url + "/") };

        var denied = await client.GetAsync(Lib + "/@v/v1.2.0.zip");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("denied by policy: denied through the environment (example.com/pol/lib v1.2.0)\n", await denied.Content.ReadAsStringAsync());

        // denyRetracted: v1.3.0's go.mod retracts v1.1.0.
        var retracted = await client.GetAsync(Lib + "/@v/v1.1.0.zip");
        Assert.Equal(HttpStatusCode.Forbidden, retracted.StatusCode);
        Assert.Contains(PolicyTestModules.RetractRationale, await retracted.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Lib + "/@v/v1.0.0.zip")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Lib + "/@v/v1.3.0.zip")).StatusCode);
        Assert.Equal("v1.0.0\nv1.3.0\n", await client.GetStringAsync(Lib + "/@v/list"));
        Assert.Contains("Warren:Policy (configuration)", warren.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_policy_in_environment_variables_stops_start_up_naming_the_problem()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["WARREN_POLICY__DENY__0__MODULE"] = "example.com/pol/lib",
            ["WARREN_POLICY__DENYVULNERABLE__ENABLED"] = "maybe",
        };
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => WarrenProcess.StartAsync(TestPaths.NewTempDir("policy-env-bad"), modules.Upstream.Url, env));
        Assert.Contains("invalid configuration: policy Warren:Policy (configuration) line", ex.Message, StringComparison.Ordinal);
        Assert.Contains("deny[0]: missing \"reason\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("enabled", ex.Message, StringComparison.Ordinal);
    }
}
