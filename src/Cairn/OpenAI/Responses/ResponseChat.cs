namespace Cairn.OpenAI.Responses;

/// <summary>A response asked of a Chat Completions model: the chat request that answers it.</summary>
internal static class ResponseChat
{
    /// <summary>
    /// The <c>POST /v1/chat/completions</c> body that answers <paramref name="request"/>: its <c>instructions</c> as the
    /// first system message, then <paramref name="context"/> (the chain's items, stored shape, oldest first) and
    /// <paramref name="input"/> as chat messages (consecutive function calls one assistant message with several tool
    /// calls; outputs tool messages), the parameters in chat's names, <c>store:false</c>, and with
    /// <paramref name="stream"/> <c>stream_options.include_usage</c>. Throws <see cref="OpenAIException"/> (400 naming
    /// the parameter) for what chat cannot carry, and for a function call without its output.
    /// </summary>
    public static byte[] ToChatBody(ResponseRequest request, IReadOnlyList<ReadOnlyMemory<byte>> context, IReadOnlyList<ResponseItem> input, bool stream) =>
        throw new NotImplementedException();
}
