using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Warren.Testing;

/// <summary>Collects formatted log lines (level, message, exception), e.g. to check that no secret is ever logged.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly string? _category;
    private readonly ConcurrentQueue<string> _lines;

    public CapturingLogger()
        : this(null, new ConcurrentQueue<string>())
    {
    }

    internal CapturingLogger(string? category, ConcurrentQueue<string> lines)
    {
        _category = category;
        _lines = lines;
    }

    public ConcurrentQueue<string> Lines => _lines;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _lines.Enqueue(_category is null
            ? $"{logLevel} {formatter(state, exception)} {exception}"
            : $"{logLevel} {_category} {formatter(state, exception)} {exception}");
    }
}

/// <summary>A logger provider whose loggers, of every category and level, all write into one <see cref="Lines"/> queue.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Lines);

    public void Dispose()
    {
    }
}
