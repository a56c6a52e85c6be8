using System.Buffers;
using System.Text.Json;
using Cairn.Storage;

namespace Cairn.OpenAI;

/// <summary>
/// Turns a finished completion into what is stored: the stored object's JSON (the shape GET and list return,
/// which differs from the create response) and one JSON item per input message, each serialized once.
/// </summary>
internal static class StoredCompletionWriter
{
    public static StoredCompletion Build(long projectId, string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            WriteObject(writer, id, requestId, created, request, outcome, request.Metadata);
        }
        var messages = new byte[request.Messages.Count][];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = MessageItem(id, i, request.Messages[i]);
        }
        return new StoredCompletion(projectId, id, outcome.Model, created, buffer.WrittenSpan.ToArray(), request.Metadata, messages);
    }

    private static void WriteObject(
        Utf8JsonWriter writer, string id, string requestId, long created, ChatCompletionRequest request, ChatOutcome outcome,
        IReadOnlyDictionary<string, string> metadata)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "chat.completion"u8);
        writer.WriteString("id"u8, id);
        writer.WriteString("model"u8, outcome.Model);
        writer.WriteNumber("created"u8, created);
        writer.WriteString("request_id"u8, requestId);
        writer.RawOrNull("tool_choice"u8, request.ToolChoice);
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("total_tokens"u8, outcome.Usage.TotalTokens);
        writer.WriteNumber("completion_tokens"u8, outcome.Usage.CompletionTokens);
        writer.WriteNumber("prompt_tokens"u8, outcome.Usage.PromptTokens);
        writer.WriteEndObject();
        writer.WriteNumber("seed"u8, request.Seed ?? outcome.Seed ?? Ids.Seed());
        writer.Decimal("top_p"u8, request.TopP ?? 1.0);
        writer.Decimal("temperature"u8, request.Temperature ?? 1.0);
        writer.Decimal("presence_penalty"u8, request.PresencePenalty ?? 0.0);
        writer.Decimal("frequency_penalty"u8, request.FrequencyPenalty ?? 0.0);
        writer.StringOrNull("system_fingerprint"u8, outcome.SystemFingerprint);
        writer.StringOrNull("input_user"u8, request.User);
        writer.WriteString("service_tier"u8, "default"u8);
        writer.RawOrNull("tools"u8, request.Tools);
        writer.Metadata(metadata);
        writer.WriteStartArray("choices"u8);
        foreach (var choice in outcome.Choices)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, choice.Index);
            writer.WriteStartObject("message"u8);
            writer.StringOrNull("content"u8, choice.Content);
            writer.WriteNull("refusal"u8);
            writer.WriteString("role"u8, "assistant"u8);
            if (choice.ToolCalls is { Count: > 0 } calls)
            {
                writer.WritePropertyName("tool_calls"u8);
                ChatCompletionWriter.WriteToolCalls(writer, calls, withIndex: false);
            }
            else
            {
                writer.WriteNull("tool_calls"u8);
            }
            writer.WriteNull("function_call"u8);
            writer.WriteEndObject();
            writer.WriteString("finish_reason"u8, choice.FinishReason);
            ChatCompletionWriter.WriteLogprobs(writer, choice.Logprobs);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.RawOrNull("response_format"u8, request.ResponseFormat);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The stored form of a completion an upstream produced (<paramref name="completion"/>: its non-streaming
    /// response, or one assembled from its stream): the same shape as any stored completion, with the upstream's
    /// choices, usage and fingerprint, and a <c>cairn</c> object saying where it came from.
    /// </summary>
    public static StoredCompletion BuildProxied(
        long projectId, string id, string requestId, long created, ChatCompletionRequest request, JsonElement completion,
        ProxyRecord origin, ChatUsage? countedUsage)
    {
        var model = JsonCheck.Get(completion, "model") is { ValueKind: JsonValueKind.String } m ? m.GetString()! : origin.UpstreamModel;
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "chat.completion"u8);
            writer.WriteString("id"u8, id);
            writer.WriteString("model"u8, model);
            writer.WriteNumber("created"u8, created);
            writer.WriteString("request_id"u8, requestId);
            writer.RawOrNull("tool_choice"u8, request.ToolChoice);
            WriteUsage(writer, JsonCheck.Get(completion, "usage"), countedUsage);
            writer.WriteNumber("seed"u8, request.Seed ?? Ids.Seed());
            writer.Decimal("top_p"u8, request.TopP ?? 1.0);
            writer.Decimal("temperature"u8, request.Temperature ?? 1.0);
            writer.Decimal("presence_penalty"u8, request.PresencePenalty ?? 0.0);
            writer.Decimal("frequency_penalty"u8, request.FrequencyPenalty ?? 0.0);
            writer.StringOrNull("system_fingerprint"u8, JsonCheck.Get(completion, "system_fingerprint") is { ValueKind: JsonValueKind.String } f ? f.GetString() : null);
            writer.StringOrNull("input_user"u8, request.User);
            writer.WriteString("service_tier"u8, JsonCheck.Get(completion, "service_tier") is { ValueKind: JsonValueKind.String } tier ? tier.GetString() : "default");
            writer.RawOrNull("tools"u8, request.Tools);
            writer.Metadata(request.Metadata);
            writer.WriteStartArray("choices"u8);
            if (JsonCheck.Get(completion, "choices") is { ValueKind: JsonValueKind.Array } choices)
            {
                foreach (var choice in choices.EnumerateArray())
                {
                    WriteStoredChoice(writer, choice);
                }
            }
            writer.WriteEndArray();
            writer.RawOrNull("response_format"u8, request.ResponseFormat);
            writer.WriteStartObject("cairn"u8);
            writer.WriteString("provider"u8, origin.Provider);
            writer.WriteString("deployment"u8, origin.Deployment);
            writer.WriteString("upstream_model"u8, origin.UpstreamModel);
            writer.StringOrNull("upstream_id"u8, JsonCheck.Get(completion, "id") is { ValueKind: JsonValueKind.String } upstreamId ? upstreamId.GetString() : null);
            writer.WriteString("usage_source"u8, countedUsage is null ? "upstream"u8 : "counted"u8);
            if (countedUsage is not null && origin.Tokenizer is { } tokenizer)
            {
                writer.WriteString("usage_tokenizer"u8, tokenizer);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        var messages = new byte[request.Messages.Count][];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = MessageItem(id, i, request.Messages[i]);
        }
        return new StoredCompletion(projectId, id, request.Model, created, buffer.WrittenSpan.ToArray(), request.Metadata, messages);
    }

    /// <summary>Usage in the stored key order (total, completion, prompt), then whatever details the upstream added.</summary>
    private static void WriteUsage(Utf8JsonWriter writer, JsonElement? upstream, ChatUsage? counted)
    {
        writer.WriteStartObject("usage"u8);
        if (counted is { } usage || upstream is not { ValueKind: JsonValueKind.Object } given)
        {
            var totals = counted ?? default;
            writer.WriteNumber("total_tokens"u8, totals.TotalTokens);
            writer.WriteNumber("completion_tokens"u8, totals.CompletionTokens);
            writer.WriteNumber("prompt_tokens"u8, totals.PromptTokens);
            writer.WriteEndObject();
            return;
        }
        foreach (var name in (string[])["total_tokens", "completion_tokens", "prompt_tokens"])
        {
            if (JsonCheck.Get(given, name) is { } value)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }
        foreach (var property in given.EnumerateObject())
        {
            if (property.Name is not ("total_tokens" or "completion_tokens" or "prompt_tokens"))
            {
                property.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// A choice in the stored shape: <c>index, message, finish_reason, logprobs</c>, the message's keys in stored
    /// order (<c>content, refusal, role, tool_calls, function_call</c>) then any others the upstream sent that
    /// carry a value (empty lists and nulls left out, so a streamed and a whole answer store alike).
    /// </summary>
    private static void WriteStoredChoice(Utf8JsonWriter writer, JsonElement choice)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("index"u8);
        if (JsonCheck.Get(choice, "index") is { } index)
        {
            index.WriteTo(writer);
        }
        else
        {
            writer.WriteNumberValue(0);
        }
        writer.WriteStartObject("message"u8);
        var message = JsonCheck.Get(choice, "message") is { ValueKind: JsonValueKind.Object } m ? m : default;
        var known = (string[])["content", "refusal", "role", "tool_calls", "function_call"];
        foreach (var name in known)
        {
            var value = message.ValueKind == JsonValueKind.Object ? JsonCheck.Get(message, name) : null;
            writer.WritePropertyName(name);
            if (name == "role" && value is not { ValueKind: JsonValueKind.String })
            {
                writer.WriteStringValue("assistant"u8);
            }
            else if (value is { } present && !IsEmpty(present))
            {
                present.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
        if (message.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in message.EnumerateObject())
            {
                if (Array.IndexOf(known, property.Name) < 0 && !IsEmpty(property.Value))
                {
                    property.WriteTo(writer);
                }
            }
        }
        writer.WriteEndObject();
        writer.RawOrNull("finish_reason"u8, JsonCheck.Get(choice, "finish_reason"));
        writer.RawOrNull("logprobs"u8, JsonCheck.Get(choice, "logprobs"));
        writer.WriteEndObject();
    }

    private static bool IsEmpty(JsonElement value) =>
        value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined || (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0);

    /// <summary>Rewrites a stored object with new metadata, keeping every other byte's meaning and the key order.</summary>
    public static byte[] WithMetadata(byte[] stored, IReadOnlyDictionary<string, string> metadata)
    {
        using var document = JsonDocument.Parse(stored, JsonBody.Stored);
        var buffer = new ArrayBufferWriter<byte>(stored.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("metadata"u8))
                {
                    writer.Metadata(metadata);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One item of <c>GET /chat/completions/{id}/messages</c>: <c>id, role, content, content_parts, name</c>.</summary>
    private static byte[] MessageItem(string completionId, int index, ChatMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Cairn.OpenAI.JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, $"{completionId}-{index}");
            writer.WriteString("role"u8, message.Role);
            writer.StringOrNull("content"u8, message.Text());
            writer.WritePropertyName("content_parts"u8);
            if (message.Content is { ValueKind: JsonValueKind.Array } parts)
            {
                writer.WriteStartArray();
                foreach (var part in parts.EnumerateArray())
                {
                    WritePart(writer, part);
                }
                writer.WriteEndArray();
            }
            else
            {
                writer.WriteNullValue();
            }
            writer.StringOrNull("name"u8, message.Name);
            // Kept beyond OpenAI's five keys so that tool-use conversations survive a round trip (Azure returns them too).
            if (JsonCheck.Get(message.Element, "tool_calls") is { } toolCalls)
            {
                writer.WritePropertyName("tool_calls"u8);
                toolCalls.WriteTo(writer);
            }
            if (JsonCheck.Get(message.Element, "tool_call_id") is { } toolCallId)
            {
                writer.WritePropertyName("tool_call_id"u8);
                toolCallId.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WritePart(Utf8JsonWriter writer, JsonElement part)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, part.GetProperty("type").GetString());
        writer.RawOrNull("text"u8, JsonCheck.Get(part, "text"));
        writer.WritePropertyName("image_url"u8);
        if (JsonCheck.Get(part, "image_url") is { } image)
        {
            writer.WriteStartObject();
            writer.WriteString("url"u8, image.GetProperty("url").GetString());
            writer.RawOrNull("detail"u8, JsonCheck.Get(image, "detail"));
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }
        writer.RawOrNull("input_audio"u8, JsonCheck.Get(part, "input_audio"));
        writer.RawOrNull("file"u8, JsonCheck.Get(part, "file"));
        if (JsonCheck.Get(part, "refusal") is { } refusal)
        {
            writer.WritePropertyName("refusal"u8);
            refusal.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
