using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// Builds, from the chunks of a streamed completion, the completion a non-streaming request would have received:
/// text deltas appended per choice (content, refusal and any other text field a server adds, such as
/// <c>reasoning_content</c>), tool call deltas merged by index, logprobs concatenated, the last finish reason,
/// usage and the response-level fields. <see cref="Size"/> says about how large the completion has grown.
/// </summary>
internal sealed class StreamAssembler
{
    private readonly SortedDictionary<int, ChoiceState> choices = [];
    private string? upstreamId;
    private string? model;
    private string? fingerprint;
    private string? serviceTier;
    private long? created;
    private string? usage;

    /// <summary>Whether every choice seen has a finish reason.</summary>
    public bool Finished => choices.Count > 0 && choices.Values.All(c => c.FinishReason is not null);

    public bool HasUsage => usage is not null;

    /// <summary>
    /// About how many bytes the assembled completion holds: its text and raw values as received, and a little for each
    /// choice and tool call. A value replaced by a later chunk (usage, a role) still counts, so a stream that repeats
    /// itself forever reaches any limit too.
    /// </summary>
    public long Size { get; private set; }

    public void Add(JsonElement chunk)
    {
        foreach (var property in chunk.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "id" when value.ValueKind == JsonValueKind.String:
                    upstreamId ??= value.GetString();
                    break;
                case "model" when value.ValueKind == JsonValueKind.String:
                    model = value.GetString();
                    break;
                case "system_fingerprint" when value.ValueKind == JsonValueKind.String:
                    fingerprint = value.GetString();
                    break;
                case "service_tier" when value.ValueKind == JsonValueKind.String:
                    serviceTier = value.GetString();
                    break;
                case "created" when value.ValueKind == JsonValueKind.Number:
                    created ??= value.TryGetInt64(out var seconds) ? seconds : null;
                    break;
                case "usage" when value.ValueKind == JsonValueKind.Object:
                    usage = value.GetRawText();
                    Size += usage.Length;
                    break;
                case "choices" when value.ValueKind == JsonValueKind.Array:
                    foreach (var choice in value.EnumerateArray())
                    {
                        AddChoice(choice);
                    }
                    break;
            }
        }
    }

    private void AddChoice(JsonElement choice)
    {
        if (choice.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        var index = JsonCheck.Get(choice, "index") is { ValueKind: JsonValueKind.Number } i && i.TryGetInt32(out var n) ? n : 0;
        if (!choices.TryGetValue(index, out var state))
        {
            choices[index] = state = new ChoiceState();
            Size += ChoiceState.EmptySize;
        }
        if (JsonCheck.Get(choice, "delta") is { ValueKind: JsonValueKind.Object } delta)
        {
            Size += state.AddDelta(delta);
        }
        if (JsonCheck.Get(choice, "logprobs") is { ValueKind: JsonValueKind.Object } logprobs)
        {
            Size += state.AddLogprobs(logprobs);
        }
        if (JsonCheck.Get(choice, "finish_reason") is { ValueKind: JsonValueKind.String } finish)
        {
            state.FinishReason = finish.GetString();
        }
    }

    /// <summary>The assembled completion, shaped as a non-streaming response.</summary>
    public byte[] ToCompletion()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.StringOrNull("id"u8, upstreamId);
            writer.WriteString("object"u8, "chat.completion"u8);
            if (created is { } seconds)
            {
                writer.WriteNumber("created"u8, seconds);
            }
            writer.StringOrNull("model"u8, model);
            writer.WriteStartArray("choices"u8);
            foreach (var (index, state) in choices)
            {
                state.Write(writer, index);
            }
            writer.WriteEndArray();
            if (usage is not null)
            {
                writer.WritePropertyName("usage"u8);
                writer.WriteRawValue(usage, skipInputValidation: true);
            }
            if (serviceTier is not null)
            {
                writer.WriteString("service_tier"u8, serviceTier);
            }
            writer.StringOrNull("system_fingerprint"u8, fingerprint);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class ChoiceState
    {
        private readonly Dictionary<string, StringBuilder> texts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
        private readonly List<string> order = [];
        private readonly HashSet<string> named = new(StringComparer.Ordinal);
        private readonly SortedDictionary<int, ToolCallState> toolCalls = [];
        private ToolCallState? functionCall;
        private List<string>? logprobContent;
        private List<string>? logprobRefusal;
        private bool hasLogprobs;
        private string? role;

        /// <summary>What <see cref="Size"/> counts for a choice with nothing in it yet (its JSON is about this long).</summary>
        public const int EmptySize = 128;

        public string? FinishReason { get; set; }

        /// <summary>Adds a delta's fields; returns the bytes they added.</summary>
        public long AddDelta(JsonElement delta)
        {
            long added = 0;
            foreach (var property in delta.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "role" when value.ValueKind == JsonValueKind.String:
                        role = value.GetString();
                        added += role!.Length;
                        break;
                    case "tool_calls" when value.ValueKind == JsonValueKind.Array:
                        foreach (var call in value.EnumerateArray())
                        {
                            var index = JsonCheck.Get(call, "index") is { ValueKind: JsonValueKind.Number } i && i.TryGetInt32(out var n) ? n : toolCalls.Count;
                            if (!toolCalls.TryGetValue(index, out var state))
                            {
                                toolCalls[index] = state = new ToolCallState();
                                added += ToolCallState.EmptySize;
                            }
                            added += state.Add(call);
                        }
                        break;
                    case "function_call" when value.ValueKind == JsonValueKind.Object:
                        added += (functionCall ??= new ToolCallState()).AddFunction(value);
                        break;
                    case var name when value.ValueKind == JsonValueKind.String:
                        added += Remember(name);
                        if (!texts.TryGetValue(name, out var text))
                        {
                            texts[name] = text = new StringBuilder();
                        }
                        var part = value.GetString()!;
                        text.Append(part);
                        added += part.Length;
                        break;
                    case var name when value.ValueKind != JsonValueKind.Null:
                        added += Remember(name);
                        var raw = value.GetRawText();
                        values[name] = raw;
                        added += raw.Length;
                        break;
                }
            }
            return added;
        }

        private int Remember(string name)
        {
            if (!named.Add(name))
            {
                return 0;
            }
            order.Add(name);
            return name.Length;
        }

        /// <summary>Adds a chunk's logprobs; returns the bytes they added.</summary>
        public long AddLogprobs(JsonElement logprobs)
        {
            hasLogprobs = true;
            return Append(ref logprobContent, JsonCheck.Get(logprobs, "content")) + Append(ref logprobRefusal, JsonCheck.Get(logprobs, "refusal"));
        }

        private static long Append(ref List<string>? items, JsonElement? array)
        {
            long added = 0;
            if (array is { ValueKind: JsonValueKind.Array } list)
            {
                items ??= [];
                foreach (var item in list.EnumerateArray())
                {
                    var raw = item.GetRawText();
                    items.Add(raw);
                    added += raw.Length;
                }
            }
            return added;
        }

        public void Write(Utf8JsonWriter writer, int index)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, index);
            writer.WriteStartObject("message"u8);
            writer.WriteString("role"u8, role ?? "assistant");
            writer.StringOrNull("content"u8, texts.GetValueOrDefault("content")?.ToString());
            writer.StringOrNull("refusal"u8, texts.GetValueOrDefault("refusal")?.ToString());
            if (toolCalls.Count > 0)
            {
                writer.WriteStartArray("tool_calls"u8);
                foreach (var call in toolCalls.Values)
                {
                    call.WriteToolCall(writer);
                }
                writer.WriteEndArray();
            }
            if (functionCall is not null)
            {
                writer.WritePropertyName("function_call"u8);
                functionCall.WriteFunction(writer);
            }
            foreach (var name in order)
            {
                if (name is "content" or "refusal")
                {
                    continue;
                }
                if (texts.TryGetValue(name, out var text))
                {
                    writer.WriteString(name, text.ToString());
                }
                else
                {
                    writer.WritePropertyName(name);
                    writer.WriteRawValue(values[name], skipInputValidation: true);
                }
            }
            writer.WriteEndObject();
            writer.WritePropertyName("logprobs"u8);
            if (hasLogprobs)
            {
                writer.WriteStartObject();
                WriteList(writer, "content"u8, logprobContent);
                WriteList(writer, "refusal"u8, logprobRefusal);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNullValue();
            }
            writer.StringOrNull("finish_reason"u8, FinishReason);
            writer.WriteEndObject();
        }

        private static void WriteList(Utf8JsonWriter writer, ReadOnlySpan<byte> name, List<string>? items)
        {
            writer.WritePropertyName(name);
            if (items is null)
            {
                writer.WriteNullValue();
                return;
            }
            writer.WriteStartArray();
            foreach (var item in items)
            {
                writer.WriteRawValue(item, skipInputValidation: true);
            }
            writer.WriteEndArray();
        }
    }

    /// <summary>One tool call (or a legacy function call) built from its deltas: id and type as given, name and arguments appended.</summary>
    private sealed class ToolCallState
    {
        private readonly StringBuilder name = new();
        private readonly StringBuilder arguments = new();
        private string? id;
        private string? type;

        /// <summary>What <see cref="Size"/> counts for a tool call with nothing in it yet.</summary>
        public const int EmptySize = 64;

        /// <summary>Adds a tool call delta; returns the bytes it added.</summary>
        public long Add(JsonElement call)
        {
            long added = 0;
            if (JsonCheck.Get(call, "id") is { ValueKind: JsonValueKind.String } callId)
            {
                id = callId.GetString();
                added += id!.Length;
            }
            if (JsonCheck.Get(call, "type") is { ValueKind: JsonValueKind.String } callType)
            {
                type = callType.GetString();
                added += type!.Length;
            }
            if (JsonCheck.Get(call, "function") is { ValueKind: JsonValueKind.Object } function)
            {
                added += AddFunction(function);
            }
            return added;
        }

        /// <summary>Adds a function's name and arguments pieces; returns the bytes they added.</summary>
        public long AddFunction(JsonElement function)
        {
            long added = 0;
            if (JsonCheck.Get(function, "name") is { ValueKind: JsonValueKind.String } part)
            {
                var text = part.GetString()!;
                name.Append(text);
                added += text.Length;
            }
            if (JsonCheck.Get(function, "arguments") is { ValueKind: JsonValueKind.String } args)
            {
                var text = args.GetString()!;
                arguments.Append(text);
                added += text.Length;
            }
            return added;
        }

        public void WriteToolCall(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.StringOrNull("id"u8, id);
            writer.WriteString("type"u8, type ?? "function");
            writer.WritePropertyName("function"u8);
            WriteFunction(writer);
            writer.WriteEndObject();
        }

        public void WriteFunction(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, name.ToString());
            writer.WriteString("arguments"u8, arguments.ToString());
            writer.WriteEndObject();
        }
    }
}
