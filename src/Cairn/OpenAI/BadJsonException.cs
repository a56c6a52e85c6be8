namespace Cairn.OpenAI;

/// <summary>Why <see cref="JsonBody"/> refused some JSON, and the path where (null for the text as a whole).</summary>
internal sealed class BadJsonException(string? param, string message) : Exception(message)
{
    public string? Param { get; } = param;
}
