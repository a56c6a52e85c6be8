using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Backends.Llama;

/// <summary>
/// Turns OpenAI messages into the turns of a llama.cpp chat template. Tools are described in the system turn the
/// way Hermes-style models (Qwen2.5, Hermes, …) are trained to read them; earlier tool calls and tool results are
/// written back in the same <c>&lt;tool_call&gt;</c> / <c>&lt;tool_response&gt;</c> form.
/// </summary>
internal static class LlamaPrompt
{
    public const string CallOpen = "<tool_call>";
    public const string CallClose = "</tool_call>";

    public static List<(string Role, string Content)> Turns(IReadOnlyList<ChatMessage> messages, JsonElement? tools)
    {
        var turns = new List<(string Role, string Content)>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Content is { ValueKind: JsonValueKind.Array } parts)
            {
                var p = 0;
                foreach (var part in parts.EnumerateArray())
                {
                    if (!part.GetProperty("type").ValueEquals("text"u8) && !part.GetProperty("type").ValueEquals("refusal"u8))
                    {
                        throw OpenAIException.InvalidRequest($"messages[{i}].content[{p}].type",
                            "This model reads text only; remove image, audio and file parts or choose another model.", "unsupported_parameter");
                    }
                    p++;
                }
            }
            var text = message.Text() ?? "";
            switch (message.Role)
            {
                case "developer":
                    turns.Add(("system", text));
                    break;
                case "assistant":
                    turns.Add(("assistant", WithCalls(text, message.Element)));
                    break;
                case "tool" or "function":
                    turns.Add(("user", $"<tool_response>\n{text}\n</tool_response>"));
                    break;
                default:
                    turns.Add((message.Role, text));
                    break;
            }
        }
        if (tools is { } list)
        {
            var description = Describe(list);
            if (turns.Count > 0 && turns[0].Role == "system")
            {
                turns[0] = ("system", turns[0].Content + "\n\n" + description);
            }
            else
            {
                turns.Insert(0, ("system", description));
            }
        }
        return turns;
    }

    private static string WithCalls(string text, JsonElement message)
    {
        if (JsonCheck.Get(message, "tool_calls") is not { ValueKind: JsonValueKind.Array } calls)
        {
            return text;
        }
        var builder = new StringBuilder(text);
        foreach (var call in calls.EnumerateArray())
        {
            if (JsonCheck.Get(call, "function") is not { } function)
            {
                continue;
            }
            if (builder.Length > 0)
            {
                builder.Append('\n');
            }
            var arguments = JsonCheck.Get(function, "arguments")?.GetString() ?? "{}";
            builder.Append(CallOpen).Append("\n{\"name\": ")
                .Append(Quote(function.GetProperty("name").GetString()!))
                .Append(", \"arguments\": ").Append(arguments).Append("}\n").Append(CallClose);
        }
        return builder.ToString();
    }

    /// <summary>A JSON string literal.</summary>
    public static string Quote(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(value.Length + 8);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStringValue(value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Describe(JsonElement tools)
    {
        var builder = new StringBuilder();
        builder.Append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
            .Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        foreach (var tool in tools.EnumerateArray())
        {
            if (JsonCheck.Get(tool, "function") is not null)
            {
                builder.Append('\n').Append(tool.GetRawText());
            }
        }
        builder.Append("\n</tools>\n\nFor each function call, return a json object with function name and arguments within ")
            .Append("<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>");
        return builder.ToString();
    }
}
