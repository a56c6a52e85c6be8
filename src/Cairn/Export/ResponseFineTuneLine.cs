using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Storage;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.Export;

/// <summary>
/// A chain of stored responses as one line of OpenAI's chat fine-tuning format:
/// <c>{"messages":[…],"tools":[…]}</c>. The last response's <c>instructions</c> are the system message (instructions
/// are not inherited along a chain), then every input and output item of the chain, oldest first, as the chat
/// messages a model answering it is sent (<see cref="ChatMessages"/>: function calls as an assistant message's
/// <c>tool_calls</c>, their outputs as <c>tool</c> messages, reasoning left out), so the last response's answer is
/// the last message. <c>tools</c> are the last response's function tools in chat's shape.
/// </summary>
internal static class ResponseFineTuneLine
{
    /// <summary>
    /// Writes the line of the chain ending in the response <paramref name="body"/>, whose items, oldest first, are
    /// <paramref name="chain"/>; false when that response's output has neither text nor a function call (nothing to learn from).
    /// </summary>
    public static bool TryWrite(ArrayBufferWriter<byte> line, byte[] body, IReadOnlyList<ArchivedItem> chain)
    {
        if (!chain.Any(item => item.Depth == 0 && item.Output && Answers(item.Item.Body)))
        {
            return false;
        }
        var documents = new List<JsonDocument>(chain.Count + 1);
        try
        {
            var response = Parse(body, documents);
            using (var json = new Utf8JsonWriter(line, JsonWriting.Options))
            {
                json.WriteStartObject();
                json.WriteStartArray("messages"u8);
                if (Get(response, "instructions") is { ValueKind: JsonValueKind.String } instructions)
                {
                    json.WriteStartObject();
                    json.WriteString("role"u8, "system"u8);
                    json.WriteString("content"u8, instructions.GetString());
                    json.WriteEndObject();
                }
                // The messages hold on to function calls until the next message, so every item stays parsed until the end.
                var messages = new ChatMessages(json);
                foreach (var item in chain)
                {
                    messages.Add(Parse(item.Item.Body, documents));
                }
                messages.Flush();
                json.WriteEndArray();
                if (Get(response, "tools") is { ValueKind: JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
                {
                    ResponseChat.Tools(json, tools);
                }
                json.WriteEndObject();
            }
        }
        finally
        {
            foreach (var document in documents)
            {
                document.Dispose();
            }
        }
        line.Write("\n"u8);
        return true;
    }

    private static JsonElement Parse(byte[] json, List<JsonDocument> documents)
    {
        var document = JsonDocument.Parse(json, JsonBody.Stored);
        documents.Add(document);
        return document.RootElement;
    }

    /// <summary>An output item with something to learn from: a function call, or an assistant message with an <c>output_text</c> part.</summary>
    private static bool Answers(byte[] item)
    {
        using var document = JsonDocument.Parse(item, JsonBody.Stored);
        var root = document.RootElement;
        return ResponseInputParser.TypeOf(root) switch
        {
            "function_call" => true,
            "message" => Get(root, "content") is { ValueKind: JsonValueKind.Array } parts
                && parts.EnumerateArray().Any(part => Get(part, "type") is { ValueKind: JsonValueKind.String } type && type.ValueEquals("output_text"u8)),
            _ => false,
        };
    }
}
