using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// The response object (<c>"object":"response"</c>) as the live API writes it: <c>id, object, created_at, status</c>,
/// then every other key alphabetically, <c>metadata</c> last; the request echoed with its defaults filled in.
/// </summary>
/// <remarks>
/// The key set is that of the newest recording of a chat model (gpt-4o-mini, 2026-06, <c>ResponseUsingConversations</c>),
/// less OpenAI's own accounting (<c>billing</c>, <c>tool_usage</c>), which Cairn has nothing to put in, and less
/// <c>conversation</c>, written only when a conversation is used.
/// </remarks>
internal sealed class ResponseObject
{
    public const string InProgress = "in_progress";

    public const string Failed = "failed";

    private static readonly JsonElement Null = JsonElement.Parse("null");
    private static readonly JsonElement True = JsonElement.Parse("true");
    private static readonly JsonElement NoParameters = JsonElement.Parse("""{"type":"object","properties":{}}""");
    private static readonly JsonElement NoObject = JsonElement.Parse("{}");

    private ResponseObject(ResponseRequest request, string id, long createdAt, string model)
    {
        Request = request;
        Id = id;
        CreatedAt = createdAt;
        Model = model;
    }

    public ResponseRequest Request { get; }
    public string Id { get; }
    public long CreatedAt { get; }
    public string Model { get; private set; }

    /// <summary><c>in_progress</c> until <see cref="Complete"/> or <see cref="Fail"/>.</summary>
    public string Status { get; private set; } = InProgress;

    public ResponseOutcome? Outcome { get; private set; }

    /// <summary>When the answer finished (Unix seconds); null until <see cref="Complete"/>.</summary>
    public long? CompletedAt { get; private set; }

    /// <summary>Why the response failed; null unless <see cref="Fail"/> was called.</summary>
    public ResponseError? Error { get; private set; }

    /// <summary>A response being answered: <c>in_progress</c>, <c>output:[]</c>, <c>usage:null</c>.</summary>
    public static ResponseObject Start(ResponseRequest request, string id, long createdAt) => new(request, id, createdAt, request.Model);

    /// <summary>Finished: status, output, usage and the answering model from <paramref name="outcome"/>; <c>completed_at</c>.</summary>
    public void Complete(ResponseOutcome outcome, long completedAt)
    {
        EnsureInProgress();
        Outcome = outcome;
        Status = outcome.Status;
        if (outcome.Model.Length > 0)
        {
            Model = outcome.Model;
        }
        CompletedAt = completedAt;
    }

    /// <summary>
    /// Failed: <c>status:"failed"</c>, <c>error:{code, message}</c>, no output. A completed response can still fail
    /// until it is acknowledged (its storing failed, say); a failed one cannot fail again.
    /// </summary>
    public void Fail(string code, string message)
    {
        if (Status == Failed)
        {
            throw new InvalidOperationException($"Response {Id} is already {Status}.");
        }
        Status = Failed;
        Error = new(code, message);
        Outcome = null;
        CompletedAt = null;
    }

    public void Write(Utf8JsonWriter writer)
    {
        var request = Request;
        writer.WriteStartObject();
        writer.WriteString("id"u8, Id);
        writer.WriteString("object"u8, "response"u8);
        writer.WriteNumber("created_at"u8, CreatedAt);
        writer.WriteString("status"u8, Status);
        writer.WriteBoolean("background"u8, request.Background);
        NumberOrNull(writer, "completed_at"u8, CompletedAt);
        WriteError(writer);
        writer.Decimal("frequency_penalty"u8, GivenNumber("frequency_penalty") ?? 0);
        WriteIncompleteDetails(writer);
        writer.StringOrNull("instructions"u8, request.Instructions);
        NumberOrNull(writer, "max_output_tokens"u8, request.MaxOutputTokens);
        NumberOrNull(writer, "max_tool_calls"u8, request.MaxToolCalls);
        writer.WriteString("model"u8, Model);
        writer.RawOrNull("moderation"u8, Given("moderation"));
        WriteOutput(writer);
        writer.WriteBoolean("parallel_tool_calls"u8, request.ParallelToolCalls);
        writer.Decimal("presence_penalty"u8, GivenNumber("presence_penalty") ?? 0);
        writer.StringOrNull("previous_response_id"u8, request.PreviousResponseId);
        writer.StringOrNull("prompt_cache_key"u8, request.PromptCacheKey);
        writer.RawOrNull("prompt_cache_retention"u8, Given("prompt_cache_retention"));
        writer.WritePropertyName("reasoning"u8);
        WriteSorted(writer, request.Reasoning ?? NoObject, [("context", Null), ("effort", Null), ("summary", Null)]);
        writer.StringOrNull("safety_identifier"u8, request.SafetyIdentifier);
        // Cairn serves every tier alike: what was asked while answering, then "default" as OpenAI's answers say.
        writer.WriteString("service_tier"u8, Status == InProgress ? request.ServiceTier ?? "auto" : "default");
        writer.WriteBoolean("store"u8, request.Store);
        writer.Decimal("temperature"u8, request.Temperature ?? 1);
        WriteText(writer);
        writer.WritePropertyName("tool_choice"u8);
        if (request.ToolChoice is { } toolChoice)
        {
            toolChoice.WriteTo(writer);
        }
        else
        {
            writer.WriteStringValue("auto"u8);
        }
        WriteTools(writer);
        writer.WriteNumber("top_logprobs"u8, request.TopLogprobs ?? 0);
        writer.Decimal("top_p"u8, request.TopP ?? 1);
        writer.WriteString("truncation"u8, request.Truncation);
        WriteUsage(writer);
        writer.StringOrNull("user"u8, request.User);
        writer.Metadata(request.Metadata);
        writer.WriteEndObject();
    }

    public byte[] ToUtf8() => JsonWriting.ToUtf8(Write);

    private void EnsureInProgress()
    {
        if (Status != InProgress)
        {
            throw new InvalidOperationException($"Response {Id} is already {Status}.");
        }
    }

    private JsonElement? Given(string name) => Request.Given.TryGetValue(name, out var value) ? value : null;

    private double? GivenNumber(string name) => Given(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : null;

    private static void NumberOrNull(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private void WriteError(Utf8JsonWriter writer)
    {
        if (Error is null)
        {
            writer.WriteNull("error"u8);
            return;
        }
        writer.WriteStartObject("error"u8);
        writer.WriteString("code"u8, Error.Code);
        writer.WriteString("message"u8, Error.Message);
        writer.WriteEndObject();
    }

    private void WriteIncompleteDetails(Utf8JsonWriter writer)
    {
        if (Outcome?.IncompleteReason is not { } reason)
        {
            writer.WriteNull("incomplete_details"u8);
            return;
        }
        writer.WriteStartObject("incomplete_details"u8);
        writer.WriteString("reason"u8, reason);
        writer.WriteEndObject();
    }

    private void WriteOutput(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("output"u8);
        foreach (var item in Outcome?.Output ?? [])
        {
            writer.WriteRawValue(item.Json, skipInputValidation: true);
        }
        writer.WriteEndArray();
    }

    /// <summary><c>{format, verbosity}</c>: a json_schema format echoed with <c>description:null</c> and <c>strict:true</c> when left out.</summary>
    private void WriteText(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("text"u8);
        writer.WritePropertyName("format"u8);
        if (Request.TextFormat is not { } format)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "text"u8);
            writer.WriteEndObject();
        }
        else if (IsType(format, "json_schema"u8))
        {
            WriteSorted(writer, format, [("description", Null), ("strict", True)]);
        }
        else
        {
            WriteSorted(writer, format, []);
        }
        writer.WriteString("verbosity"u8, Request.Verbosity);
        writer.WriteEndObject();
    }

    /// <summary>The tools as sent, a function's <c>description</c> null and <c>strict</c> true when left out, and empty <c>parameters</c> an empty object schema.</summary>
    private void WriteTools(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("tools"u8);
        if (Request.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (IsType(tool, "function"u8))
                {
                    var parameters = tool.TryGetProperty("parameters", out var given) && given.ValueKind == JsonValueKind.Object && !given.EnumerateObject().Any()
                        ? NoParameters
                        : (JsonElement?)null;
                    WriteSorted(writer, tool, [("description", Null), ("strict", True)], parameters);
                }
                else
                {
                    WriteSorted(writer, tool, []);
                }
            }
        }
        writer.WriteEndArray();
    }

    private void WriteUsage(Utf8JsonWriter writer)
    {
        if (Outcome?.Usage is not { } usage)
        {
            writer.WriteNull("usage"u8);
            return;
        }
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, usage.InputTokens);
        writer.WriteStartObject("input_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, usage.CachedTokens);
        writer.WriteEndObject();
        writer.WriteNumber("output_tokens"u8, usage.OutputTokens);
        writer.WriteStartObject("output_tokens_details"u8);
        writer.WriteNumber("reasoning_tokens"u8, usage.ReasoningTokens);
        writer.WriteEndObject();
        writer.WriteNumber("total_tokens"u8, usage.TotalTokens);
        writer.WriteEndObject();
    }

    private static bool IsType(JsonElement value, ReadOnlySpan<byte> type) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type"u8, out var given) && given.ValueKind == JsonValueKind.String && given.ValueEquals(type);

    /// <summary>
    /// An echoed object as the live API orders it: <c>type</c> first, then every other key alphabetically, with
    /// <paramref name="defaults"/> for keys not sent and <paramref name="parameters"/> (when given) in place of the sent ones.
    /// </summary>
    private static void WriteSorted(Utf8JsonWriter writer, JsonElement value, ReadOnlySpan<(string Name, JsonElement Value)> defaults, JsonElement? parameters = null)
    {
        var keys = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                keys[property.Name] = property.Value;
            }
        }
        foreach (var (name, fallback) in defaults)
        {
            keys.TryAdd(name, fallback);
        }
        if (parameters is { } replaced)
        {
            keys["parameters"] = replaced;
        }
        writer.WriteStartObject();
        if (keys.Remove("type", out var type))
        {
            writer.WritePropertyName("type"u8);
            type.WriteTo(writer);
        }
        foreach (var (name, element) in keys)
        {
            writer.WritePropertyName(name);
            element.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}

/// <summary>Why a response failed: <c>{code, message}</c>, <c>code</c> one of OpenAI's <c>ResponseErrorCode</c> values.</summary>
internal sealed record ResponseError(string Code, string Message);
