namespace Warren.Core.Modules;

/// <summary>One go.mod error. Line and Column are 1-based (Column counts runes); Message excludes the position.</summary>
public sealed record GoModError(string FileName, int Line, int Column, string Message)
{
    /// <summary>The error as the go command prints it: "go.mod:3: msg", or "go.mod:3:5: msg" when the column is past the
    /// start of the line.</summary>
    public override string ToString()
    {
        if (Column > 1)
        {
            return $"{FileName}:{Line}:{Column}: {Message}";
        }

        if (Line > 0)
        {
            return $"{FileName}:{Line}: {Message}";
        }

        return FileName.Length > 0 ? $"{FileName}: {Message}" : Message;
    }
}

/// <summary>A go.mod file failed to parse. <see cref="Exception.Message"/> lists every error, one a line, as Go does.</summary>
public sealed class GoModParseException : FormatException
{
    public GoModParseException()
        : this([new GoModError("", 0, 0, "invalid go.mod")])
    {
    }

    public GoModParseException(string message)
        : this([new GoModError("", 0, 0, message)])
    {
    }

    public GoModParseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new GoModError("", 0, 0, message)];
    }

    public GoModParseException(IReadOnlyList<GoModError> errors)
        : base(string.Join('\n', errors ?? throw new ArgumentNullException(nameof(errors))))
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("at least one error is required", nameof(errors));
        }

        Errors = errors;
    }

    public IReadOnlyList<GoModError> Errors { get; }

    public string FileName => Errors[0].FileName;

    public int Line => Errors[0].Line;

    public int Column => Errors[0].Column;
}
