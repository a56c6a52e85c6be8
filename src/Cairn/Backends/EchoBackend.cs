using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Models;

namespace Cairn.Backends;

/// <summary>
/// The built-in offline model: answers with the text of the last user message, honouring <c>n</c>, <c>stop</c>,
/// token limits and streaming, and refusing by name the parameters a text echo cannot honour. Its answers are
/// bounded like a model's output (<see cref="EchoOptions"/>), and only as much of the text as they need is tokenized.
/// </summary>
internal sealed class EchoBackend(TokenCounter tokens, EchoOptions options) : IChatBackend
{
    public const string ModelId = "echo";
    public const long Created = 1735689600;
    public const string Fingerprint = "fp_ca1e7ec40a";

    public Task<ChatOutcome> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        var (answer, finish, pieces) = Answer(request, cancellationToken);
        var choices = new ChatChoice[request.N];
        for (var i = 0; i < choices.Length; i++)
        {
            choices[i] = new ChatChoice(i, answer, finish);
        }
        return Task.FromResult(new ChatOutcome(request.Model, choices, Usage(request, pieces.Count, cancellationToken), Fingerprint));
    }

    public Task<ChatStream> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        var (_, finish, pieces) = Answer(request, cancellationToken);
        return Task.FromResult(new ChatStream(request.Model, Fingerprint, Deltas(request, pieces, finish, cancellationToken)));
    }

    private async IAsyncEnumerable<ChatDelta> Deltas(
        ChatCompletionRequest request, List<string> pieces, string finish, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        for (var i = 0; i < request.N; i++)
        {
            foreach (var piece in pieces)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return ChatDelta.Text(i, piece);
            }
            yield return ChatDelta.Finish(i, finish);
        }
        yield return ChatDelta.Totals(Usage(request, pieces.Count, cancellationToken));
    }

    private ChatUsage Usage(ChatCompletionRequest request, int answerTokens, CancellationToken cancellationToken) =>
        new(tokens.CountPrompt(request.Messages, request.Tools?.GetRawText(), cancellationToken), answerTokens * request.N);

    private (string Answer, string FinishReason, List<string> Pieces) Answer(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        Refuse(request);
        var text = LastUserText(request.Messages);
        var finish = FinishReasons.Stop;
        foreach (var stop in request.Stop)
        {
            var at = stop.Length == 0 ? -1 : text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0)
            {
                text = text[..at];
            }
        }
        var max = Math.Min(request.MaxCompletionTokens ?? int.MaxValue, options.PerChoice(request.N));
        // One token more than the answer may have tells whether the text was longer, without tokenizing the rest.
        var pieces = tokens.Split(text, max + 1, cancellationToken);
        if (pieces.Count > max)
        {
            pieces.RemoveRange(max, pieces.Count - max);
            text = string.Concat(pieces);
            finish = FinishReasons.Length;
        }
        return (text, finish, pieces);
    }

    private static string LastUserText(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Role == "user" && messages[i].Content is { } content)
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    return content.GetString()!;
                }
                var texts = content.EnumerateArray()
                    .Where(part => part.GetProperty("type").ValueEquals("text"u8))
                    .Select(part => part.GetProperty("text").GetString());
                return string.Join(' ', texts);
            }
        }
        return "";
    }

    private static void Refuse(ChatCompletionRequest request)
    {
        if (request.Extensions.Count > 0)
        {
            var name = request.Extensions[0];
            throw OpenAIException.InvalidRequest(name, $"Unrecognized request argument supplied: '{name}'.", "unknown_parameter");
        }
        var given = request.Given;
        if (request.Logprobs)
        {
            throw CannotHonour("logprobs", "log probabilities");
        }
        foreach (var name in (string[])["logit_bias", "audio", "web_search_options", "moderation"])
        {
            if (given.ContainsKey(name))
            {
                throw CannotHonour(name, $"'{name}'");
            }
        }
        if (given.TryGetValue("modalities", out var modalities) && modalities.EnumerateArray().Any(m => m.ValueEquals("audio"u8)))
        {
            throw CannotHonour("modalities", "audio output");
        }
        if (request.ResponseFormat is { } format && !format.GetProperty("type").ValueEquals("text"u8))
        {
            throw CannotHonour("response_format", "structured output (json_object, json_schema)");
        }
        if (request.ToolChoice is { } choice && !(choice.ValueKind == JsonValueKind.String && !choice.ValueEquals("required"u8)))
        {
            throw CannotHonour("tool_choice", "forced tool calls");
        }
        if (given.TryGetValue("function_call", out var call) && call.ValueKind == JsonValueKind.Object)
        {
            throw CannotHonour("function_call", "forced function calls");
        }
    }

    private static OpenAIException CannotHonour(string param, string what) =>
        OpenAIException.InvalidRequest(param,
            new StringBuilder().Append("The model `").Append(ModelId).Append("` does not support ").Append(what)
                .Append(". Remove '").Append(param).Append("' or choose another model.").ToString(),
            "unsupported_parameter");
}
