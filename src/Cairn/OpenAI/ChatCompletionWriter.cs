using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>Writes the create response and stream chunks in OpenAI's shape and key order.</summary>
internal static class ChatCompletionWriter
{
    public static void WriteCompletion(Utf8JsonWriter writer, string id, long created, ChatOutcome outcome)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("object"u8, "chat.completion"u8);
        writer.WriteNumber("created"u8, created);
        writer.WriteString("model"u8, outcome.Model);
        writer.WriteStartArray("choices"u8);
        foreach (var choice in outcome.Choices)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, choice.Index);
            writer.WriteStartObject("message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.StringOrNull("content"u8, choice.Content);
            writer.WriteNull("refusal"u8);
            if (choice.ToolCalls is { Count: > 0 } calls)
            {
                writer.WritePropertyName("tool_calls"u8);
                WriteToolCalls(writer, calls, withIndex: false);
            }
            writer.WriteStartArray("annotations"u8);
            writer.WriteEndArray();
            writer.WriteEndObject();
            WriteLogprobs(writer, choice.Logprobs);
            writer.WriteString("finish_reason"u8, choice.FinishReason);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WritePropertyName("usage"u8);
        WriteUsage(writer, outcome.Usage);
        writer.WriteString("service_tier"u8, "default"u8);
        writer.StringOrNull("system_fingerprint"u8, outcome.SystemFingerprint);
        writer.WriteEndObject();
    }

    /// <summary><c>tool_calls</c>: an array of <c>{id, type, function: {name, arguments}}</c> (with <c>index</c> in a chunk).</summary>
    public static void WriteToolCalls(Utf8JsonWriter writer, IReadOnlyList<ChatToolCall> calls, bool withIndex)
    {
        writer.WriteStartArray();
        for (var i = 0; i < calls.Count; i++)
        {
            writer.WriteStartObject();
            if (withIndex)
            {
                writer.WriteNumber("index"u8, i);
            }
            writer.WriteString("id"u8, calls[i].Id);
            writer.WriteString("type"u8, "function"u8);
            writer.WriteStartObject("function"u8);
            writer.WriteString("name"u8, calls[i].Name);
            writer.WriteString("arguments"u8, calls[i].Arguments);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>A choice's <c>logprobs</c>: <c>{content: [TokenLogprob…], refusal: null}</c>, or null when none were asked for.</summary>
    public static void WriteLogprobs(Utf8JsonWriter writer, IReadOnlyList<ChatLogprob>? logprobs)
    {
        if (logprobs is null)
        {
            writer.WriteNull("logprobs"u8);
            return;
        }
        writer.WriteStartObject("logprobs"u8);
        writer.WriteStartArray("content"u8);
        foreach (var entry in logprobs)
        {
            WriteLogprob(writer, entry, withTop: true);
        }
        writer.WriteEndArray();
        writer.WriteNull("refusal"u8);
        writer.WriteEndObject();
    }

    private static void WriteLogprob(Utf8JsonWriter writer, ChatLogprob entry, bool withTop)
    {
        writer.WriteStartObject();
        writer.WriteString("token"u8, entry.Token);
        writer.WriteNumber("logprob"u8, entry.Logprob);
        writer.WriteStartArray("bytes"u8);
        foreach (var b in entry.Bytes)
        {
            writer.WriteNumberValue(b);
        }
        writer.WriteEndArray();
        if (withTop)
        {
            writer.WriteStartArray("top_logprobs"u8);
            foreach (var top in entry.TopLogprobs)
            {
                WriteLogprob(writer, top, withTop: false);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter writer, ChatUsage usage)
    {
        writer.WriteStartObject();
        writer.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        writer.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        writer.WriteNumber("total_tokens"u8, usage.TotalTokens);
        writer.WriteStartObject("prompt_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, 0);
        writer.WriteNumber("audio_tokens"u8, 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details"u8);
        writer.WriteNumber("reasoning_tokens"u8, 0);
        writer.WriteNumber("audio_tokens"u8, 0);
        writer.WriteNumber("accepted_prediction_tokens"u8, 0);
        writer.WriteNumber("rejected_prediction_tokens"u8, 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Writes one <c>chat.completion.chunk</c>. The delta is the role (first chunk), text, or empty with a finish reason.</summary>
    public static void WriteChunk(Utf8JsonWriter writer, StreamHeader header, ChunkKind kind, ChatDelta delta)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, header.Id);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, header.Created);
        writer.WriteString("model"u8, header.Model);
        writer.WriteString("service_tier"u8, "default"u8);
        writer.StringOrNull("system_fingerprint"u8, header.SystemFingerprint);
        writer.WriteStartArray("choices"u8);
        if (kind != ChunkKind.Usage)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, delta.Index);
            writer.WriteStartObject("delta"u8);
            switch (kind)
            {
                case ChunkKind.Role:
                    writer.WriteString("role"u8, "assistant"u8);
                    writer.WriteString("content"u8, ""u8);
                    writer.WriteNull("refusal"u8);
                    break;
                case ChunkKind.Content:
                    writer.WriteString("content"u8, delta.Content);
                    break;
                case ChunkKind.ToolCalls:
                    writer.WritePropertyName("tool_calls"u8);
                    WriteToolCalls(writer, delta.ToolCalls ?? [], withIndex: true);
                    break;
            }
            writer.WriteEndObject();
            if (header.Logprobs && kind is ChunkKind.Role or ChunkKind.Content)
            {
                WriteLogprobs(writer, kind == ChunkKind.Role ? [] : delta.Logprobs ?? []);
            }
            else
            {
                writer.WriteNull("logprobs"u8);
            }
            writer.StringOrNull("finish_reason"u8, kind == ChunkKind.Finish ? delta.FinishReason : null);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        if (header.IncludeUsage)
        {
            writer.WritePropertyName("usage"u8);
            if (kind == ChunkKind.Usage && delta.Usage is { } usage)
            {
                WriteUsage(writer, usage);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
        writer.WriteEndObject();
    }
}

/// <summary>What every chunk of one stream repeats.</summary>
internal sealed record StreamHeader(string Id, long Created, string Model, string? SystemFingerprint, bool IncludeUsage, bool Logprobs = false);

/// <summary>The kinds of chunk a stream is made of.</summary>
internal enum ChunkKind
{
    Role,
    Content,
    ToolCalls,
    Finish,
    Usage,
}
