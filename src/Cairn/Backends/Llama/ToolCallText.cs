using System.Security.Cryptography;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Backends.Llama;

/// <summary>Reads the <c>&lt;tool_call&gt;{"name", "arguments"}&lt;/tool_call&gt;</c> blocks a model wrote into OpenAI tool calls.</summary>
internal static class ToolCallText
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static List<ChatToolCall> Parse(string text)
    {
        var calls = new List<ChatToolCall>();
        var at = 0;
        while ((at = text.IndexOf(LlamaPrompt.CallOpen, at, StringComparison.Ordinal)) >= 0)
        {
            var start = at + LlamaPrompt.CallOpen.Length;
            var end = text.IndexOf(LlamaPrompt.CallClose, start, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }
            at = end + LlamaPrompt.CallClose.Length;
            try
            {
                using var call = JsonDocument.Parse(text[start..end]);
                var root = call.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    var arguments = root.TryGetProperty("arguments", out var args) ? args : default;
                    calls.Add(new ChatToolCall(Id(), name.GetString()!, arguments.ValueKind == JsonValueKind.Undefined ? "{}" : Compact(arguments)));
                }
            }
            catch (JsonException)
            {
                // Not a call after all: the caller returns the text as content.
            }
        }
        return calls;
    }

    private static string Compact(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAI.JsonWriting.Options))
        {
            element.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary><c>call_</c> and 24 base62 characters, as OpenAI's.</summary>
    private static string Id() => string.Create(29, 0, static (span, _) =>
    {
        "call_".CopyTo(span);
        RandomNumberGenerator.GetItems(Base62, span[5..]);
    });
}
