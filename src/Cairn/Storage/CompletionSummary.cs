using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Storage;

/// <summary>
/// What the dashboard needs of a completion without reading its body: the first words of the last user message and
/// of the answer, the text it is searched by, and its tokens. Made from the typed completion where it is built
/// (see <see cref="StoredCompletion.Summary"/>), so neither the request thread nor the writer thread parses the
/// stored bytes again.
/// </summary>
internal sealed record CompletionSummary(string? Prompt, string? Answer, string PromptText, string AnswerText, long PromptTokens, long CompletionTokens)
{
    public const int PreviewChars = 200;

    /// <summary>Search text beyond this is not indexed: a prompt of megabytes is searched by its start.</summary>
    public const int SearchChars = 64 * 1024;

    /// <summary>The hour a completion counts in for the overview: its <c>created</c> cut to the hour, as the stores' SQL does.</summary>
    public static long Hour(long created) => created - (created % 3600);

    /// <summary>The summary made where the completion was built, else one read from its stored bytes.</summary>
    public static CompletionSummary Of(StoredCompletion completion) => completion.Summary ?? Of(completion.Body, completion.Messages);

    /// <summary>The summary read from a completion's stored bytes: its body and its input messages' items.</summary>
    public static CompletionSummary Of(byte[] body, IEnumerable<byte[]> messages) =>
        Of(ChatCompletion.TryRead(body) ?? new ChatCompletion(), messages.Select(ReadInput));

    /// <summary>The summary of a completion and its input messages (each message's role and text, as its stored item has them).</summary>
    public static CompletionSummary Of(ChatCompletion completion, IEnumerable<(string Role, string? Text)> input)
    {
        var prompt = new List<string>();
        string? lastUser = null;
        string? last = null;
        foreach (var (role, text) in input)
        {
            if (text is null)
            {
                continue;
            }
            prompt.Add(text);
            last = text;
            if (role == "user")
            {
                lastUser = text;
            }
        }

        var answer = new List<string>();
        foreach (var choice in completion.Choices)
        {
            AnswerParts(answer, choice);
        }
        var answerText = Clean(Joined(answer), SearchChars);
        return new CompletionSummary(Preview(Clean(lastUser ?? last ?? "", SearchChars)), Preview(answerText), Clean(Joined(prompt), SearchChars), answerText,
            completion.Usage?.PromptTokens ?? 0, completion.Usage?.CompletionTokens ?? 0);
    }

    private static void AnswerParts(List<string> answer, ChatCompletionChoice? choice)
    {
        // Null only in a body read back, where JSON may say null for what OpenAI always gives.
        if (choice?.Message is not { } message)
        {
            return;
        }
        if (message.Content is { } content)
        {
            answer.Add(content);
        }
        else if (message.Refusal is { } refusal)
        {
            answer.Add(refusal);
        }
        foreach (var call in message.ToolCalls ?? [])
        {
            if (call?.Function is { } function)
            {
                answer.Add($"{function.Name}({function.Arguments})");
            }
        }
    }

    /// <summary>A stored message item's role and text, for a completion given only as bytes.</summary>
    private static (string Role, string? Text) ReadInput(byte[] item)
    {
        using var message = JsonDocument.Parse(item, JsonBody.Stored);
        var root = message.RootElement;
        return (Text(root, "role") ?? "", Text(root, "content"));
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The parts one per line, cut at <see cref="SearchChars"/>; a single part that fits is itself, not a copy.</summary>
    private static string Joined(List<string> parts)
    {
        if (parts.Count == 1 && parts[0].Length <= SearchChars)
        {
            return parts[0];
        }
        var text = new StringBuilder(Math.Min(SearchChars, parts.Sum(part => part.Length + 1)));
        foreach (var part in parts)
        {
            if (text.Length >= SearchChars)
            {
                break;
            }
            if (text.Length > 0)
            {
                text.Append('\n');
            }
            text.Append(part, 0, Math.Min(part.Length, SearchChars - text.Length));
        }
        return text.ToString();
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
            // Never between the halves of a surrogate pair: PostgreSQL's text takes only whole characters.
            if (preview.Length >= PreviewChars && !char.IsHighSurrogate(c))
            {
                break;
            }
        }
        return preview.ToString();
    }

    /// <summary>Text as both stores can hold it: PostgreSQL text has no U+0000, and a lone surrogate cannot be UTF-8.</summary>
    private static string Clean(string text, int max)
    {
        // Most text has no U+0000 and no surrogate at all (pairs included): it is returned as it is, not copied.
        if (text.Length <= max && !text.Contains('\0') && text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            return text;
        }
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
