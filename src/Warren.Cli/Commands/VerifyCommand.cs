using System.CommandLine;

namespace Warren.Cli.Commands;

/// <summary>`warren verify` (not implemented yet).</summary>
public sealed class VerifyCommand : Command
{
    public VerifyCommand()
        : base("verify", "Not implemented yet.")
    {
        SetAction(_ => 70);
    }
}
