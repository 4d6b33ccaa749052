namespace Warren.Server.Configuration;

/// <summary>Hands out one options instance built before the container (so it can be immutable) after running the
/// registered validators on it, as the default factory does (ValidateOnStart then refuses bad configuration at
/// start-up).</summary>
public sealed class FrozenOptionsFactory<TOptions>(TOptions options, IEnumerable<IValidateOptions<TOptions>> validators) : IOptionsFactory<TOptions>
    where TOptions : class
{
    private readonly IValidateOptions<TOptions>[] _validators = [.. validators];

    public TOptions Create(string name)
    {
        var failures = new List<string>();
        foreach (var validator in _validators)
        {
            var result = validator.Validate(name, options);
            if (result.Failed)
            {
                failures.AddRange(result.Failures);
            }
        }

        return failures.Count == 0 ? options : throw new OptionsValidationException(name, typeof(TOptions), failures);
    }
}
