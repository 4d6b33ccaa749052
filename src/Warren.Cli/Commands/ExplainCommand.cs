using System.CommandLine;

namespace Warren.Cli.Commands;

/// <summary>`warren explain` (not implemented yet).</summary>
public sealed class ExplainCommand : Command
{
    public ExplainCommand()
        : base("explain", "Not implemented yet.")
    {
        SetAction(_ => 70);
    }
}
