using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>A response asked of a Chat Completions model: the chat request that answers it.</summary>
internal static class ResponseChat
{
    /// <summary>Fields with the same name and meaning in both APIs, copied as sent.</summary>
    private static readonly string[] Shared =
    [
        "temperature", "top_p", "user", "safety_identifier", "prompt_cache_key", "prompt_cache_retention",
        "prompt_cache_options", "service_tier", "moderation",
    ];

    /// <summary>
    /// The <c>POST /v1/chat/completions</c> body that answers <paramref name="request"/>: its <c>instructions</c> as the
    /// first system message, then <paramref name="context"/> (the chain's items, stored shape, oldest first) and
    /// <paramref name="input"/> (as sent, through <see cref="ResponseItem.Sent"/>) as chat messages: consecutive
    /// function calls, with the assistant message just before them, one assistant message with several tool calls;
    /// outputs tool messages; reasoning left out; parts a stored item no longer holds (an image's URL, a file's data)
    /// left out. Then the parameters in chat's names, the request's extensions, <c>store:false</c>, and with
    /// <paramref name="stream"/> <c>stream_options.include_usage</c>. Throws <see cref="OpenAIException"/> (400 on
    /// <c>input</c>) for a function call without its output, an output without its call, or an item id given twice.
    /// </summary>
    public static byte[] ToChatBody(ResponseRequest request, IReadOnlyList<ReadOnlyMemory<byte>> context, IReadOnlyList<ResponseItem> input, bool stream)
    {
        var documents = new List<JsonDocument>();
        try
        {
            var items = new List<JsonElement>(context.Count + input.Count);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var stored in context)
            {
                var document = JsonDocument.Parse(stored, JsonBody.Stored);
                documents.Add(document);
                items.Add(document.RootElement);
                ids.Add(document.RootElement.GetProperty("id").GetString()!);
            }
            foreach (var item in input)
            {
                if (!ids.Add(item.Id))
                {
                    throw ResponseInputParser.DuplicateItem(item.Id);
                }
                if (item.Sent is not { } sent)
                {
                    var document = JsonDocument.Parse(item.Json, JsonBody.Stored);
                    documents.Add(document);
                    sent = document.RootElement;
                }
                items.Add(sent);
            }
            CheckCalls(items);
            return Write(request, items, stream);
        }
        finally
        {
            foreach (var document in documents)
            {
                document.Dispose();
            }
        }
    }

    /// <summary>Every function call is answered by a later output, and every output answers an earlier call.</summary>
    private static void CheckCalls(List<JsonElement> items)
    {
        var calls = new List<string>();
        var called = new HashSet<string>(StringComparer.Ordinal);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            switch (ResponseInputParser.TypeOf(item))
            {
                case "function_call":
                    calls.Add(item.GetProperty("call_id").GetString()!);
                    called.Add(calls[^1]);
                    break;
                case "function_call_output":
                    var callId = item.GetProperty("call_id").GetString()!;
                    if (!called.Contains(callId))
                    {
                        throw OpenAIException.InvalidRequest("input", $"No tool call found for function call output with call_id {callId}.");
                    }
                    answered.Add(callId);
                    break;
            }
        }
        if (calls.FirstOrDefault(call => !answered.Contains(call)) is { } unanswered)
        {
            throw OpenAIException.InvalidRequest("input", $"No tool output found for function call {unanswered}.");
        }
    }

    private static byte[] Write(ResponseRequest request, List<JsonElement> items, bool stream)
    {
        var bytes = JsonWriting.ToUtf8(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("model"u8, request.Model);
            writer.WriteStartArray("messages"u8);
            if (request.Instructions is { } instructions)
            {
                writer.WriteStartObject();
                writer.WriteString("role"u8, "system");
                writer.WriteString("content"u8, instructions);
                writer.WriteEndObject();
            }
            var messages = new ChatMessages(writer);
            foreach (var item in items)
            {
                messages.Add(item);
            }
            messages.Flush();
            writer.WriteEndArray();

            if (request.Tools is { } tools && tools.GetArrayLength() > 0)
            {
                Tools(writer, tools);
                if (request.ToolChoice is { } choice)
                {
                    ToolChoice(writer, choice);
                }
                if (request.Given.ContainsKey("parallel_tool_calls"))
                {
                    writer.WriteBoolean("parallel_tool_calls"u8, request.ParallelToolCalls);
                }
            }
            if (request.TextFormat is { } format && format.GetProperty("type").GetString() != "text")
            {
                ResponseFormat(writer, format);
            }
            if (request.MaxOutputTokens is { } maxOutputTokens)
            {
                writer.WriteNumber("max_completion_tokens"u8, maxOutputTokens);
            }
            if (request.Include.Contains(ResponseRequestParser.OutputLogprobs))
            {
                writer.WriteBoolean("logprobs"u8, true);
                if (request.TopLogprobs is { } topLogprobs)
                {
                    writer.WriteNumber("top_logprobs"u8, topLogprobs);
                }
            }
            if (request.Reasoning is { } reasoning && OptionalString(reasoning, "effort", "reasoning") is { } effort)
            {
                writer.WriteString("reasoning_effort"u8, effort);
            }
            if (request.Given.TryGetValue("text", out var text) && Get(text, "verbosity") is not null)
            {
                writer.WriteString("verbosity"u8, request.Verbosity);
            }
            foreach (var name in Shared.Concat(request.Extensions))
            {
                if (request.Given.TryGetValue(name, out var value))
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
            }
            writer.WriteBoolean("store"u8, false);
            if (stream)
            {
                writer.WriteBoolean("stream"u8, true);
                writer.WriteStartObject("stream_options"u8);
                writer.WriteBoolean("include_usage"u8, true);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        });
        return bytes;
    }

    /// <summary>Flat Responses function tools, nested under <c>function</c> as chat has them (null fields left out).</summary>
    public static void Tools(Utf8JsonWriter writer, JsonElement tools)
    {
        writer.WriteStartArray("tools"u8);
        foreach (var tool in tools.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "function");
            writer.WriteStartObject("function"u8);
            foreach (var property in tool.EnumerateObject())
            {
                if (property.Name != "type" && property.Value.ValueKind != JsonValueKind.Null)
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static void ToolChoice(Utf8JsonWriter writer, JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("tool_choice"u8, choice.GetString());
            return;
        }
        writer.WriteStartObject("tool_choice"u8);
        if (choice.GetProperty("type").GetString() == "function")
        {
            writer.WriteString("type"u8, "function");
            Function(writer, choice.GetProperty("name").GetString()!);
        }
        else
        {
            writer.WriteString("type"u8, "allowed_tools");
            writer.WriteStartObject("allowed_tools"u8);
            writer.WriteString("mode"u8, choice.GetProperty("mode").GetString());
            writer.WriteStartArray("tools"u8);
            foreach (var tool in choice.GetProperty("tools").EnumerateArray())
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                Function(writer, tool.GetProperty("name").GetString()!);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void Function(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject("function"u8);
        writer.WriteString("name"u8, name);
        writer.WriteEndObject();
    }

    /// <summary>
    /// <c>text.format</c> as chat's <c>response_format</c>. A json_schema format is strict unless it says otherwise,
    /// as the Responses API has it (chat's default is not strict).
    /// </summary>
    private static void ResponseFormat(Utf8JsonWriter writer, JsonElement format)
    {
        writer.WriteStartObject("response_format"u8);
        var type = format.GetProperty("type").GetString()!;
        writer.WriteString("type"u8, type);
        if (type == "json_schema")
        {
            writer.WriteStartObject("json_schema"u8);
            writer.WriteString("name"u8, format.GetProperty("name").GetString());
            if (OptionalString(format, "description", "text.format") is { } description)
            {
                writer.WriteString("description"u8, description);
            }
            writer.WritePropertyName("schema"u8);
            format.GetProperty("schema").WriteTo(writer);
            writer.WriteBoolean("strict"u8, OptionalBool(format, "strict", "text.format") ?? true);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}
