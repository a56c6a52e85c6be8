using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Storage;

/// <summary>
/// What the dashboard's list shows of a response without reading its body or items: the first words of its input
/// (the last user message of its own input, else its last item with text) and of its output (the text or refusal of
/// its message, else its function calls). Read from the stored items as the response is added, before the write, so
/// every writer of responses gets the same preview.
/// </summary>
internal sealed record ResponseSummary(string? Input, string? Output)
{
    public static ResponseSummary Of(StoredResponse response)
    {
        string? fallback = null;
        string? input = null;
        for (var i = response.Input.Count - 1; i >= 0 && input is null; i--)
        {
            using var item = JsonDocument.Parse(response.Input[i].Body, JsonBody.Stored);
            var text = Text(item.RootElement);
            if (text is null)
            {
                continue;
            }
            fallback ??= text;
            if (String(item.RootElement, "role") == "user")
            {
                input = text;
            }
        }

        var messages = new StringBuilder();
        var calls = new StringBuilder();
        foreach (var output in response.Output)
        {
            using var item = JsonDocument.Parse(output.Body, JsonBody.Stored);
            var text = Text(item.RootElement);
            if (text is not null && messages.Length + calls.Length < CompletionSummary.PreviewChars)
            {
                (String(item.RootElement, "type") == "function_call" ? calls : messages).Append(text).Append(' ');
            }
        }
        return new ResponseSummary(
            CompletionSummary.Preview(input ?? fallback), CompletionSummary.Preview(messages.Length > 0 ? messages.ToString() : calls.ToString()));
    }

    /// <summary>The text of an item: a message's text and refusal parts, a call as <c>name(arguments)</c>, a call's output.</summary>
    private static string? Text(JsonElement item)
    {
        switch (String(item, "type"))
        {
            case "function_call":
                return $"{String(item, "name")}({String(item, "arguments")})";
            case "function_call_output":
                return String(item, "output") ?? Parts(item, "output");
            case "message" or null:
                return String(item, "content") ?? Parts(item, "content");
            default:
                return null;
        }
    }

    private static string? Parts(JsonElement item, string name)
    {
        if (!item.TryGetProperty(name, out var parts) || parts.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if ((String(part, "text") ?? String(part, "refusal")) is { } words && text.Length < CompletionSummary.PreviewChars)
            {
                text.Append(words).Append(' ');
            }
        }
        return text.Length > 0 ? text.ToString() : null;
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
