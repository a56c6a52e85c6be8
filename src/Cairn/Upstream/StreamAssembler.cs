using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.OpenAI;

namespace Cairn.Upstream;

/// <summary>
/// Builds, from the chunks of a streamed completion, the completion a non-streaming request would have received:
/// text deltas appended per choice (content, refusal and any other text field a server adds, such as
/// <c>reasoning_content</c>), tool call deltas merged by index, logprobs concatenated, the last finish reason,
/// usage and the response-level fields.
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
        }
        if (JsonCheck.Get(choice, "delta") is { ValueKind: JsonValueKind.Object } delta)
        {
            state.AddDelta(delta);
        }
        if (JsonCheck.Get(choice, "logprobs") is { ValueKind: JsonValueKind.Object } logprobs)
        {
            state.AddLogprobs(logprobs);
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
        private readonly SortedDictionary<int, ToolCallState> toolCalls = [];
        private ToolCallState? functionCall;
        private List<string>? logprobContent;
        private List<string>? logprobRefusal;
        private bool hasLogprobs;
        private string? role;

        public string? FinishReason { get; set; }

        public void AddDelta(JsonElement delta)
        {
            foreach (var property in delta.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "role" when value.ValueKind == JsonValueKind.String:
                        role = value.GetString();
                        break;
                    case "tool_calls" when value.ValueKind == JsonValueKind.Array:
                        foreach (var call in value.EnumerateArray())
                        {
                            var index = JsonCheck.Get(call, "index") is { ValueKind: JsonValueKind.Number } i && i.TryGetInt32(out var n) ? n : toolCalls.Count;
                            if (!toolCalls.TryGetValue(index, out var state))
                            {
                                toolCalls[index] = state = new ToolCallState();
                            }
                            state.Add(call);
                        }
                        break;
                    case "function_call" when value.ValueKind == JsonValueKind.Object:
                        (functionCall ??= new ToolCallState()).AddFunction(value);
                        break;
                    case var name when value.ValueKind == JsonValueKind.String:
                        Remember(name);
                        if (!texts.TryGetValue(name, out var text))
                        {
                            texts[name] = text = new StringBuilder();
                        }
                        text.Append(value.GetString());
                        break;
                    case var name when value.ValueKind != JsonValueKind.Null:
                        Remember(name);
                        values[name] = value.GetRawText();
                        break;
                }
            }
        }

        private void Remember(string name)
        {
            if (!order.Contains(name))
            {
                order.Add(name);
            }
        }

        public void AddLogprobs(JsonElement logprobs)
        {
            hasLogprobs = true;
            Append(ref logprobContent, JsonCheck.Get(logprobs, "content"));
            Append(ref logprobRefusal, JsonCheck.Get(logprobs, "refusal"));
        }

        private static void Append(ref List<string>? items, JsonElement? array)
        {
            if (array is { ValueKind: JsonValueKind.Array } list)
            {
                items ??= [];
                foreach (var item in list.EnumerateArray())
                {
                    items.Add(item.GetRawText());
                }
            }
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

        public void Add(JsonElement call)
        {
            if (JsonCheck.Get(call, "id") is { ValueKind: JsonValueKind.String } callId)
            {
                id = callId.GetString();
            }
            if (JsonCheck.Get(call, "type") is { ValueKind: JsonValueKind.String } callType)
            {
                type = callType.GetString();
            }
            if (JsonCheck.Get(call, "function") is { ValueKind: JsonValueKind.Object } function)
            {
                AddFunction(function);
            }
        }

        public void AddFunction(JsonElement function)
        {
            if (JsonCheck.Get(function, "name") is { ValueKind: JsonValueKind.String } part)
            {
                name.Append(part.GetString());
            }
            if (JsonCheck.Get(function, "arguments") is { ValueKind: JsonValueKind.String } args)
            {
                arguments.Append(args.GetString());
            }
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
