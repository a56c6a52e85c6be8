namespace Cairn.OpenAI.Responses;

/// <summary>A request's input items as OpenAI stores them.</summary>
internal static class ResponseItems
{
    /// <summary>
    /// The request's input as stored items, in order: each given an id of <paramref name="responseId"/> (<c>msg_</c>
    /// for messages, <c>fc_</c> for function calls and their outputs) unless it carried one, <c>status:"completed"</c>,
    /// keys ordered as OpenAI's (<c>id, type</c>, then alphabetical, <c>role</c> last), payloads trimmed as OpenAI
    /// keeps them (an <c>input_file</c> keeps its <c>filename</c> only). A string input is one user message with one
    /// <c>input_text</c> part.
    /// </summary>
    public static IReadOnlyList<ResponseItem> Store(ResponseRequest request, string responseId) => throw new NotImplementedException();
}
