using System.CommandLine;

namespace Warren.Cli.Commands;

/// <summary>`warren prefetch` (not implemented yet).</summary>
public sealed class PrefetchCommand : Command
{
    public PrefetchCommand()
        : base("prefetch", "Not implemented yet.")
    {
        SetAction(_ => 70);
    }
}
