namespace Warren.Cli;

/// <summary>Named process exit codes.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int NotFound = 1;
    public const int BadConfiguration = 2;
    public const int CannotStart = 3;
    public const int Usage = 64;
    public const int CannotWrite = 73;
}
