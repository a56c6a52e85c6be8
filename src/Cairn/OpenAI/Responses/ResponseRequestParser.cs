namespace Cairn.OpenAI.Responses;

/// <summary>Parses and validates a whole <c>POST /v1/responses</c> body, naming the failing field in <c>param</c>.</summary>
internal static class ResponseRequestParser
{
    public static ResponseRequest Parse(ReadOnlyMemory<byte> body) => throw new NotImplementedException();
}
