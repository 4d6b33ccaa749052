using System.CommandLine;
using Warren.Server.SumDb;

namespace Warren.Cli.Commands;

/// <summary>`warren sumdb`: checksum database tools.</summary>
public sealed class SumDbCommand : Command
{
    public SumDbCommand()
        : base("sumdb", "Checksum database tools.")
    {
        Add(new SumDbKeygenCommand());
    }
}

/// <summary>`warren sumdb keygen NAME --out DIR`: the key pair of a hosted checksum database.</summary>
public sealed class SumDbKeygenCommand : Command
{
    private readonly Argument<string> _name = new("NAME") { Description = "the database's name, a host name such as sum.example.com" };
    private readonly Option<string> _out = new("--out") { Description = "directory for NAME.signer (mode 600) and NAME.verifier", Required = true };
    private readonly Option<bool> _json = new("--json") { Description = "print the files written and the verifier key as JSON" };

    public SumDbKeygenCommand()
        : base("keygen", """
            Generate the signing key of a checksum database Warren hosts.

            Writes DIR/NAME.signer (the secret key, mode 600; give it to warren serve --hosted-sumdb) and
            DIR/NAME.verifier (the verifier key exactly as GOSUMDB takes it). Existing files are never overwritten.

            Examples:
              warren sumdb keygen sum.example.com --out /etc/warren
              warren serve --hosted-sumdb /etc/warren/sum.example.com.signer
              GOSUMDB="$(cat /etc/warren/sum.example.com.verifier) https://warren.example.com/sumdb/sum.example.com" go mod download
            """)
    {
        Add(_name);
        Add(_out);
        Add(_json);
        SetAction(Run);
    }

    private int Run(ParseResult parse)
    {
        var name = parse.GetValue(_name)!;
        var directory = parse.GetValue(_out)!;
        try
        {
            var (signer, verifier, key) = HostedSumDbKey.Generate(name, directory);
            if (parse.GetValue(_json))
            {
                Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { signerFile = signer, verifierFile = verifier, verifierKey = key }));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"wrote {signer} (secret, mode 600)");
            Console.Out.WriteLine($"wrote {verifier}");
            Console.Out.WriteLine(key);
            return ExitCodes.Ok;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("warren sumdb keygen: " + e.Message.Split(" (Parameter")[0]);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("warren sumdb keygen: " + e.Message);
            return ExitCodes.CannotWrite;
        }
    }
}
