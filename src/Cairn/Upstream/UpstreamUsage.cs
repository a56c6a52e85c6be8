using System.Text.Json;
using Cairn.Models;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>An upstream completion's token usage: as the upstream gave it, or counted by Cairn when it gave none.</summary>
internal static class UpstreamUsage
{
    public static bool IsGiven(JsonElement completion) => JsonCheck.Get(completion, "usage") is { ValueKind: JsonValueKind.Object };

    /// <summary>The upstream's count of completion tokens, 0 when it gave none.</summary>
    public static int CompletionTokens(JsonElement completion) =>
        JsonCheck.Get(completion, "usage") is { ValueKind: JsonValueKind.Object } usage
        && JsonCheck.Get(usage, "completion_tokens") is { ValueKind: JsonValueKind.Number } count && count.TryGetInt32(out var tokens) ? tokens : 0;

    /// <summary>The model, finish reasons and usage an upstream's completion names (the requested model when it names none).</summary>
    public static AnswerSummary Summarize(JsonElement completion, string requestedModel)
    {
        var model = JsonCheck.Get(completion, "model") is { ValueKind: JsonValueKind.String } named ? named.GetString()! : requestedModel;
        var reasons = new List<string>();
        if (JsonCheck.Get(completion, "choices") is { ValueKind: JsonValueKind.Array } choices)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (JsonCheck.Get(choice, "finish_reason") is { ValueKind: JsonValueKind.String } reason)
                {
                    reasons.Add(reason.GetString()!);
                }
            }
        }
        int? input = null, output = null;
        if (JsonCheck.Get(completion, "usage") is { ValueKind: JsonValueKind.Object } usage)
        {
            input = JsonCheck.Get(usage, "prompt_tokens") is { ValueKind: JsonValueKind.Number } p && p.TryGetInt32(out var prompt) ? prompt : null;
            output = JsonCheck.Get(usage, "completion_tokens") is { ValueKind: JsonValueKind.Number } c && c.TryGetInt32(out var completionTokens) ? completionTokens : null;
        }
        return new AnswerSummary(model, reasons, input, output);
    }

    /// <summary>Usage the upstream did not give, counted in o200k_base tokens: the prompt as sent, and every choice's text and calls.</summary>
    public static ChatUsage Count(TokenCounter tokens, ChatCompletionRequest request, JsonElement completion, CancellationToken cancellationToken)
    {
        var prompt = tokens.CountPrompt(request.Messages, request.Tools?.GetRawText(), cancellationToken);
        var answer = 0;
        if (JsonCheck.Get(completion, "choices") is { ValueKind: JsonValueKind.Array } choices)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (JsonCheck.Get(choice, "message") is not { ValueKind: JsonValueKind.Object } message)
                {
                    continue;
                }
                answer += CountText(tokens, message, "content", cancellationToken) + CountText(tokens, message, "refusal", cancellationToken);
                if (JsonCheck.Get(message, "tool_calls") is { ValueKind: JsonValueKind.Array } calls)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (JsonCheck.Get(call, "function") is { ValueKind: JsonValueKind.Object } function)
                        {
                            answer += CountText(tokens, function, "name", cancellationToken)
                                + CountText(tokens, function, "arguments", cancellationToken);
                        }
                    }
                }
            }
        }
        return new ChatUsage(prompt, answer);
    }

    private static int CountText(TokenCounter tokens, JsonElement parent, string name, CancellationToken cancellationToken) =>
        JsonCheck.Get(parent, name) is { ValueKind: JsonValueKind.String } text ? tokens.Count(text.GetString()!, cancellationToken) : 0;
}
