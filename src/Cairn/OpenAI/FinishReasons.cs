namespace Cairn.OpenAI;

/// <summary>Why a choice ended, as OpenAI names it; an upstream may send others, which are kept as they come.</summary>
internal static class FinishReasons
{
    public const string Stop = "stop";

    public const string Length = "length";

    public const string ToolCalls = "tool_calls";

    public const string ContentFilter = "content_filter";

    public const string FunctionCall = "function_call";
}
