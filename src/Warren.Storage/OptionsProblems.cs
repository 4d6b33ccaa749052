using Microsoft.Extensions.Options;

namespace Warren.Storage;

/// <summary>Turns a provider's list of option problems (one line each) into the validation outcomes of
/// Microsoft.Extensions.Options.</summary>
public static class OptionsProblems
{
    /// <summary>Throws <see cref="OptionsValidationException"/> for <typeparamref name="TOptions"/> listing every
    /// problem, if there is any.</summary>
    public static void ThrowIfAny<TOptions>(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), problems);
        }
    }

    /// <summary>Success when there are no problems, else a failure listing them.</summary>
    public static ValidateOptionsResult ToResult(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
