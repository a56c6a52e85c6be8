using System.Text;
using System.Text.Json;

namespace Cairn.Storage;

/// <summary>
/// What the dashboard needs of a completion without reading its body: the first words of the last user message and
/// of the answer, the text it is searched by, and its tokens. Made from the stored JSON before the write is queued,
/// so the writer thread only inserts it.
/// </summary>
internal sealed record CompletionSummary(string? Prompt, string? Answer, string PromptText, string AnswerText, long PromptTokens, long CompletionTokens)
{
    public const int PreviewChars = 200;

    /// <summary>Search text beyond this is not indexed: a prompt of megabytes is searched by its start.</summary>
    public const int SearchChars = 64 * 1024;

    /// <summary>The hour a completion counts in for the overview: its <c>created</c> cut to the hour, as the stores' SQL does.</summary>
    public static long Hour(long created) => created - (created % 3600);

    public static CompletionSummary Of(StoredCompletion completion)
    {
        var prompt = new StringBuilder();
        string? lastUser = null;
        string? last = null;
        foreach (var item in completion.Messages)
        {
            using var message = JsonDocument.Parse(item, Cairn.OpenAI.JsonBody.Stored);
            var root = message.RootElement;
            var text = Text(root, "content");
            if (text is null)
            {
                continue;
            }
            Append(prompt, text);
            last = text;
            if (root.TryGetProperty("role", out var role) && role.ValueEquals("user"u8))
            {
                lastUser = text;
            }
        }

        var answer = new StringBuilder();
        long promptTokens = 0, completionTokens = 0;
        using (var body = JsonDocument.Parse(completion.Body, Cairn.OpenAI.JsonBody.Stored))
        {
            var root = body.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    AppendAnswer(answer, choice);
                }
            }
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                promptTokens = Number(usage, "prompt_tokens");
                completionTokens = Number(usage, "completion_tokens");
            }
        }
        var answerText = Clean(answer.ToString(), SearchChars);
        return new CompletionSummary(Preview(Clean(lastUser ?? last ?? "", SearchChars)), Preview(answerText), Clean(prompt.ToString(), SearchChars), answerText,
            promptTokens, completionTokens);
    }

    private static void AppendAnswer(StringBuilder answer, JsonElement choice)
    {
        if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (Text(message, "content") is { } content)
        {
            Append(answer, content);
        }
        else if (Text(message, "refusal") is { } refusal)
        {
            Append(answer, refusal);
        }
        if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in calls.EnumerateArray())
            {
                if (call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
                {
                    Append(answer, $"{Text(function, "name")}({Text(function, "arguments")})");
                }
            }
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static long Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : 0;

    private static void Append(StringBuilder text, string more)
    {
        if (text.Length >= SearchChars)
        {
            return;
        }
        if (text.Length > 0)
        {
            text.Append('\n');
        }
        text.Append(more, 0, Math.Min(more.Length, SearchChars - text.Length));
    }

    /// <summary>The first words on one line, or null when there is no text.</summary>
    public static string? Preview(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var preview = new StringBuilder(Math.Min(text.Length, PreviewChars));
        var space = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = preview.Length > 0;
                continue;
            }
            if (space)
            {
                preview.Append(' ');
                space = false;
            }
            preview.Append(c);
            if (preview.Length >= PreviewChars)
            {
                break;
            }
        }
        return preview.ToString();
    }

    /// <summary>Text as both stores can hold it: PostgreSQL text has no U+0000, and a lone surrogate cannot be UTF-8.</summary>
    private static string Clean(string text, int max)
    {
        var cut = text.Length > max ? text[..max] : text;
        var clean = new StringBuilder(cut.Length);
        for (var i = 0; i < cut.Length; i++)
        {
            var c = cut[i];
            if (c == '\0')
            {
                clean.Append(' ');
            }
            else if (char.IsHighSurrogate(c) && i + 1 < cut.Length && char.IsLowSurrogate(cut[i + 1]))
            {
                clean.Append(c).Append(cut[++i]);
            }
            else
            {
                clean.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return clean.ToString();
    }
}
