using System.CommandLine;

namespace Warren.Cli.Commands;

/// <summary>`warren doctor` (not implemented yet).</summary>
public sealed class DoctorCommand : Command
{
    public DoctorCommand()
        : base("doctor", "Not implemented yet.")
    {
        SetAction(_ => 70);
    }
}
