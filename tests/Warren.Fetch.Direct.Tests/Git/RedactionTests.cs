using Warren.Fetch.Direct.Git;

namespace Warren.Fetch.Direct.Tests.Git;

public sealed class RedactionTests
{
    [Theory]
    [InlineData("Warren serving store /s with upstream https://alice:s3cr3t@proxy.corp/,direct", "Warren serving store /s with upstream https://***@proxy.corp/,direct")]
    [InlineData("https://u:p@ss@w0rd@proxy.corp/x", "https://***@proxy.corp/x")]
    [InlineData("https://u:one@a.corp,https://b.corp|https://u:two@c.corp", "https://***@a.corp,https://b.corp|https://***@c.corp")]
    [InlineData("fatal: unable to access 'https://x-token:ghp_abc@github.com/o/r/': 403", "fatal: unable to access 'https://***@github.com/o/r/': 403")]
    [InlineData("GET https://h/p?go-get=1&access_token=abc123&x=1", "GET https://h/p?go-get=1&access_token=***&x=1")]
    [InlineData("https://h/p?private_token=t0k3n", "https://h/p?private_token=***")]
    [InlineData("Authorization: Basic YWxpY2U6cHc=", "Authorization: Basic ***")]
    [InlineData("authorization: bearer abc.def", "authorization: bearer ***")]
    [InlineData("github.com/x/y@v1.0.0: reading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.info: 404", "github.com/x/y@v1.0.0: reading https://proxy.golang.org/github.com/x/y/@v/v1.0.0.info: 404")]
    public void Text_loses_user_information_tokens_and_authorization_values(string text, string expected)
    {
        Assert.Equal(expected, SecretRedactor.RedactText(text));
        Assert.Equal(expected, new SecretRedactor().Redact(text));
    }

    [Fact]
    public void Known_secrets_go_in_every_form()
    {
        var redactor = new SecretRedactor();
        redactor.Add(new GitCredential("alice", "p@ss word"));

        var text = redactor.Redact("refused alice:p@ss word, p%40ss%20word, YWxpY2U6cEBzcyB3b3Jk");

        Assert.Equal("refused alice:***, ***, ***", text);
    }
}
