namespace Cairn.OpenAI;

/// <summary>Carries an <see cref="OpenAIError"/> out of deep validation or a backend to the endpoint that answers.</summary>
internal sealed class OpenAIException(OpenAIError error) : Exception(error.Message)
{
    public OpenAIError Error { get; } = error;

    public static OpenAIException InvalidRequest(string? param, string message, string? code = null) =>
        new(OpenAIError.InvalidRequest(param, message, code));
}
