using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// Validates a Responses <c>input</c>: a string, or items (messages, function calls and their outputs, reasoning) each
/// checked part by part, refusing by name what a Chat Completions model cannot be sent.
/// </summary>
internal static class ResponseInputParser
{
    private static readonly string[] ItemTypes = ["message", "function_call", "function_call_output", "reasoning"];
    private static readonly string[] Roles = ["user", "system", "developer", "assistant"];
    private static readonly string[] Statuses = ["in_progress", "completed", "incomplete"];
    private static readonly string[] Details = ["auto", "low", "high"];

    /// <summary>An item's type; a message may leave it out.</summary>
    public static string TypeOf(JsonElement item) => Get(item, "type")?.GetString() ?? "message";

    /// <summary>
    /// The input as items and, when it was a string, that text. <c>input</c> may be left out (or empty) only when the
    /// response continues another.
    /// </summary>
    public static (IReadOnlyList<JsonElement> Items, string? Text) Parse(JsonElement root, bool continues)
    {
        if (Get(root, "input") is not { } input)
        {
            return continues ? ([], null) : throw Missing("input");
        }
        if (input.ValueKind == JsonValueKind.String)
        {
            return ([input], input.GetString());
        }
        if (input.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType("input", "a string or an array of input items", input);
        }
        CheckLength(input, "input", continues ? 0 : 1, int.MaxValue);
        var items = new List<JsonElement>(input.GetArrayLength());
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            var at = Path("input", index++);
            if (ParseItem(item, at) is { } id && !ids.Add(id))
            {
                throw DuplicateItem(id);
            }
            items.Add(item);
        }
        return (items, null);
    }

    /// <summary>OpenAI's words for an item id given twice in one chain.</summary>
    public static OpenAIException DuplicateItem(string id) =>
        OpenAIException.InvalidRequest("input", $"Duplicate item found with id {id}. Remove duplicate items from your input and try again.");

    /// <summary>Checks one item; returns the id it was sent with.</summary>
    private static string? ParseItem(JsonElement item, string at)
    {
        RequireObject(item, at);
        var type = OptionalString(item, "type", at)
            ?? (Get(item, "role") is not null ? "message" : Get(item, "id") is not null ? "item_reference" : throw Missing(Path(at, "type")));
        switch (type)
        {
            case "message":
                ParseMessage(item, at);
                break;
            case "function_call":
                OnlyKnown(item, at, "type", "id", "call_id", "name", "arguments", "status");
                RequireCallId(item, at);
                RequireString(item, "name", at);
                RequireString(item, "arguments", at);
                OptionalEnum(item, "status", at, Statuses);
                break;
            case "function_call_output":
                OnlyKnown(item, at, "type", "id", "call_id", "output", "status");
                RequireCallId(item, at);
                ParseOutput(RequireProperty(item, "output", at), Path(at, "output"));
                OptionalEnum(item, "status", at, Statuses);
                break;
            case "reasoning":
                ParseReasoning(item, at);
                break;
            case "item_reference":
                throw OpenAIException.InvalidRequest(at,
                    $"Invalid '{at}': item references are not supported. Cairn does not look items up by id; send the item itself, or continue a stored response with 'previous_response_id'.",
                    "unsupported_value");
            default:
                throw InvalidValue(Path(at, "type"), type, ItemTypes);
        }
        if (OptionalString(item, "id", at) is not { } id)
        {
            return null;
        }
        // An item id is a key of the stored input; PostgreSQL's text cannot hold U+0000.
        JsonBody.RefuseNul(id, Path(at, "id"));
        return id.Length > 0 ? id : throw Invalid(Path(at, "id"), "empty string. Expected a non-empty item id.", "empty_string");
    }

    private static void ParseMessage(JsonElement item, string at)
    {
        OnlyKnown(item, at, "type", "id", "role", "content", "status", "phase");
        var role = RequireEnum(item, "role", at, Roles);
        OptionalEnum(item, "status", at, Statuses);
        OptionalEnum(item, "phase", at, "commentary", "final_answer");
        var content = RequireProperty(item, "content", at);
        var contentAt = Path(at, "content");
        if (content.ValueKind == JsonValueKind.String)
        {
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(contentAt, "a string or an array of content parts", content);
        }
        CheckLength(content, contentAt, 1, int.MaxValue);
        var textOnly = role is "system" or "developer"
            ? $"Chat Completions models read text only in {role} messages; send images and files in a user message."
            : null;
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partAt = Path(contentAt, index++);
            if (role == "assistant")
            {
                ParseOutputPart(part, partAt);
            }
            else
            {
                ParseInputPart(part, partAt, textOnly);
            }
        }
    }

    /// <summary>
    /// An <c>input_text</c>, <c>input_image</c> or <c>input_file</c> part. Images go to chat by URL and files as data or
    /// a file id, so an image by file id and a file by URL are refused; <paramref name="textOnly"/>, when set, says why
    /// only text may be sent here.
    /// </summary>
    private static void ParseInputPart(JsonElement part, string at, string? textOnly)
    {
        RequireObject(part, at);
        var type = RequireEnum(part, "type", at, "input_text", "input_image", "input_file");
        if (type != "input_text" && textOnly is not null)
        {
            throw OpenAIException.InvalidRequest(Path(at, "type"), $"Invalid value: '{type}'. {textOnly}", "unsupported_value");
        }
        switch (type)
        {
            case "input_text":
                OnlyKnown(part, at, "type", "text", "prompt_cache_breakpoint");
                RequireString(part, "text", at);
                break;
            case "input_image":
                OnlyKnown(part, at, "type", "image_url", "file_id", "detail", "prompt_cache_breakpoint");
                OptionalEnum(part, "detail", at, Details);
                if (OptionalString(part, "image_url", at) is null)
                {
                    throw OptionalString(part, "file_id", at) is null
                        ? OpenAIException.InvalidRequest(at, $"Invalid '{at}': expected one of 'image_url' or 'file_id'.", "missing_required_parameter")
                        : OpenAIException.InvalidRequest(Path(at, "file_id"),
                            $"Invalid '{Path(at, "file_id")}': images by file id are not supported. Chat Completions models take images by URL; send 'image_url' (a URL or a data URL).",
                            "unsupported_value");
                }
                break;
            case "input_file":
                OnlyKnown(part, at, "type", "file_id", "file_data", "file_url", "filename", "detail", "prompt_cache_breakpoint");
                OptionalString(part, "filename", at);
                OptionalEnum(part, "detail", at, Details);
                if (OptionalString(part, "file_url", at) is not null)
                {
                    throw OpenAIException.InvalidRequest(Path(at, "file_url"),
                        $"Invalid '{Path(at, "file_url")}': files by URL are not supported. Chat Completions models take files as 'file_data' or 'file_id'.",
                        "unsupported_value");
                }
                if (OptionalString(part, "file_data", at) is null && OptionalString(part, "file_id", at) is null)
                {
                    throw OpenAIException.InvalidRequest(at, $"Invalid '{at}': expected one of 'file_data' or 'file_id'.", "missing_required_parameter");
                }
                break;
        }
        if (OptionalObject(part, "prompt_cache_breakpoint", at) is { } breakpoint)
        {
            OptionalEnum(breakpoint, "mode", Path(at, "prompt_cache_breakpoint"), "explicit");
        }
    }

    /// <summary>An assistant message's <c>output_text</c> or <c>refusal</c> part.</summary>
    private static void ParseOutputPart(JsonElement part, string at)
    {
        RequireObject(part, at);
        if (RequireEnum(part, "type", at, "output_text", "refusal") == "refusal")
        {
            OnlyKnown(part, at, "type", "refusal");
            RequireString(part, "refusal", at);
            return;
        }
        OnlyKnown(part, at, "type", "text", "annotations", "logprobs");
        RequireString(part, "text", at);
        OptionalArray(part, "annotations", at, 0, int.MaxValue);
        OptionalArray(part, "logprobs", at, 0, int.MaxValue);
    }

    /// <summary>A function call's output: a string or text parts (a chat tool message carries text only).</summary>
    private static void ParseOutput(JsonElement output, string at)
    {
        if (output.ValueKind == JsonValueKind.String)
        {
            return;
        }
        if (output.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(at, "a string or an array of content parts", output);
        }
        var index = 0;
        foreach (var part in output.EnumerateArray())
        {
            ParseInputPart(part, Path(at, index++), "Chat Completions tool messages carry text only; send images and files in a user message.");
        }
    }

    private static void ParseReasoning(JsonElement item, string at)
    {
        OnlyKnown(item, at, "type", "id", "summary", "content", "encrypted_content", "status");
        var summary = Get(item, "summary") ?? throw Missing(Path(at, "summary"));
        ParseTexts(summary, Path(at, "summary"), "summary_text");
        if (Get(item, "content") is { } content)
        {
            ParseTexts(content, Path(at, "content"), "reasoning_text");
        }
        OptionalString(item, "encrypted_content", at);
        OptionalEnum(item, "status", at, Statuses);
    }

    /// <summary>An array of <c>{type, text}</c> parts of one type (a reasoning item's summary or content).</summary>
    private static void ParseTexts(JsonElement parts, string at, string type)
    {
        if (parts.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(at, "an array", parts);
        }
        var index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partAt = Path(at, index++);
            RequireObject(part, partAt);
            OnlyKnown(part, partAt, "type", "text");
            RequireEnum(part, "type", partAt, type);
            RequireString(part, "text", partAt);
        }
    }

    private static void RequireCallId(JsonElement item, string at)
    {
        var callId = RequireString(item, "call_id", at);
        if (callId.Length is 0 or > 64)
        {
            throw Invalid(Path(at, "call_id"),
                $"string length {callId.Length}. Expected a string with minimum length 1 and maximum length 64.",
                callId.Length == 0 ? "empty_string" : "string_above_max_length");
        }
    }
}
