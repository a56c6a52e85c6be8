using Microsoft.Extensions.Options;

namespace Cairn.Configuration;

/// <summary>An options type's own rules (its <c>Validate</c> method) as the options pattern's validator, run on start.</summary>
internal sealed class RulesValidator<T>(Func<T, IEnumerable<string>> rules) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        rules(options).ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
