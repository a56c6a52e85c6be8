using System.Text;
using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>One validated input message; <see cref="Element"/> is the message as the client sent it.</summary>
internal sealed record ChatMessage(string Role, JsonElement Element)
{
    /// <summary>The content: a string, an array of parts, or null (an assistant message with tool calls).</summary>
    public JsonElement? Content => JsonCheck.Get(Element, "content");

    public string? Name => JsonCheck.Get(Element, "name")?.GetString();

    /// <summary>
    /// The content as one string: a string as it is, parts' texts joined by single spaces with a non-text part
    /// counting as empty (as OpenAI's stored messages do), null for no content.
    /// </summary>
    public string? Text()
    {
        if (Content is not { } content)
        {
            return null;
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }
        var text = new StringBuilder();
        var first = true;
        foreach (var part in content.EnumerateArray())
        {
            if (!first)
            {
                text.Append(' ');
            }
            first = false;
            if (part.GetProperty("type").ValueEquals("text"u8))
            {
                text.Append(part.GetProperty("text").GetString());
            }
        }
        return text.ToString();
    }
}
