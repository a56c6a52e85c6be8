using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI;

/// <summary>Validates <c>messages</c>: each role's fields and the content part types it may carry.</summary>
internal static class MessageParser
{
    private static readonly string[] Roles = ["system", "assistant", "user", "function", "tool", "developer"];
    private static readonly string[] TextOnly = ["text"];
    private static readonly string[] UserParts = ["text", "image_url", "input_audio", "file"];
    private static readonly string[] AssistantParts = ["text", "refusal"];

    public static IReadOnlyList<ChatMessage> ParseMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType("messages", "an array", messages);
        }
        CheckLength(messages, "messages", 1, int.MaxValue);
        var parsed = new List<ChatMessage>(messages.GetArrayLength());
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            parsed.Add(ParseMessage(message, Path("messages", index++)));
        }
        return parsed;
    }

    private static ChatMessage ParseMessage(JsonElement message, string at)
    {
        RequireObject(message, at);
        var role = RequireString(message, "role", at);
        switch (role)
        {
            case "system" or "developer":
                OnlyKnown(message, at, "role", "content", "name");
                ParseContent(RequireProperty(message, "content", at), Path(at, "content"), TextOnly);
                break;
            case "user":
                OnlyKnown(message, at, "role", "content", "name");
                ParseContent(RequireProperty(message, "content", at), Path(at, "content"), UserParts);
                break;
            case "assistant":
                ParseAssistant(message, at);
                break;
            case "tool":
                OnlyKnown(message, at, "role", "content", "tool_call_id");
                ParseContent(RequireProperty(message, "content", at), Path(at, "content"), TextOnly);
                RequireString(message, "tool_call_id", at);
                break;
            case "function":
                OnlyKnown(message, at, "role", "content", "name");
                if (!message.TryGetProperty("content", out _))
                {
                    throw Missing(Path(at, "content"));
                }
                OptionalString(message, "content", at);
                RequireString(message, "name", at);
                break;
            default:
                throw InvalidValue(Path(at, "role"), role, Roles);
        }
        OptionalString(message, "name", at);
        return new ChatMessage(role, message);
    }

    private static void ParseAssistant(JsonElement message, string at)
    {
        OnlyKnown(message, at, "role", "content", "refusal", "name", "audio", "tool_calls", "function_call");
        OptionalString(message, "refusal", at);
        if (OptionalObject(message, "audio", at) is { } audio)
        {
            OnlyKnown(audio, Path(at, "audio"), "id");
            RequireString(audio, "id", Path(at, "audio"));
        }
        var toolCalls = OptionalArray(message, "tool_calls", at, 0, int.MaxValue);
        if (toolCalls is { } calls)
        {
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                ParseToolCall(call, Path(Path(at, "tool_calls"), index++));
            }
        }
        var functionCall = OptionalObject(message, "function_call", at);
        if (functionCall is { } function)
        {
            var functionAt = Path(at, "function_call");
            OnlyKnown(function, functionAt, "name", "arguments");
            RequireString(function, "name", functionAt);
            RequireString(function, "arguments", functionAt);
        }
        if (Get(message, "content") is { } content)
        {
            ParseContent(content, Path(at, "content"), AssistantParts);
        }
        else if (toolCalls is null && functionCall is null)
        {
            throw OpenAIException.InvalidRequest(Path(at, "content"),
                $"Missing required parameter: '{Path(at, "content")}'. An assistant message needs 'content' unless it has 'tool_calls' or 'function_call'.",
                "missing_required_parameter");
        }
    }

    private static void ParseToolCall(JsonElement call, string at)
    {
        RequireObject(call, at);
        RequireString(call, "id", at);
        var type = RequireEnum(call, "type", at, "function", "custom");
        OnlyKnown(call, at, "id", "type", type);
        var body = RequireObject(RequireProperty(call, type, at), Path(at, type));
        var bodyAt = Path(at, type);
        RequireString(body, "name", bodyAt);
        if (type == "function")
        {
            OnlyKnown(body, bodyAt, "name", "arguments");
            RequireString(body, "arguments", bodyAt);
        }
        else
        {
            OnlyKnown(body, bodyAt, "name", "input");
            RequireString(body, "input", bodyAt);
        }
    }

    private static void ParseContent(JsonElement content, string at, string[] partTypes)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(at, "a string or an array of content parts", content);
        }
        CheckLength(content, at, 1, int.MaxValue);
        ParseParts(content, at, partTypes);
    }

    public static void ParseParts(JsonElement parts, string at, string[] partTypes)
    {
        var index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            ParsePart(part, Path(at, index++), partTypes);
        }
    }

    private static void ParsePart(JsonElement part, string at, string[] partTypes)
    {
        RequireObject(part, at);
        var type = RequireString(part, "type", at);
        if (Array.IndexOf(partTypes, type) < 0)
        {
            throw InvalidValue(Path(at, "type"), type, partTypes);
        }
        switch (type)
        {
            case "text":
                OnlyKnown(part, at, "type", "text", "prompt_cache_breakpoint");
                RequireString(part, "text", at);
                if (OptionalObject(part, "prompt_cache_breakpoint", at) is { } breakpoint)
                {
                    OptionalEnum(breakpoint, "mode", Path(at, "prompt_cache_breakpoint"), "explicit");
                }
                break;
            case "refusal":
                OnlyKnown(part, at, "type", "refusal");
                RequireString(part, "refusal", at);
                break;
            case "image_url":
                OnlyKnown(part, at, "type", "image_url");
                var image = RequireObject(RequireProperty(part, "image_url", at), Path(at, "image_url"));
                OnlyKnown(image, Path(at, "image_url"), "url", "detail");
                RequireString(image, "url", Path(at, "image_url"));
                OptionalEnum(image, "detail", Path(at, "image_url"), "auto", "low", "high");
                break;
            case "input_audio":
                OnlyKnown(part, at, "type", "input_audio");
                var audio = RequireObject(RequireProperty(part, "input_audio", at), Path(at, "input_audio"));
                OnlyKnown(audio, Path(at, "input_audio"), "data", "format");
                RequireString(audio, "data", Path(at, "input_audio"));
                RequireEnum(audio, "format", Path(at, "input_audio"), "wav", "mp3");
                break;
            case "file":
                OnlyKnown(part, at, "type", "file");
                var file = RequireObject(RequireProperty(part, "file", at), Path(at, "file"));
                var fileAt = Path(at, "file");
                OnlyKnown(file, fileAt, "filename", "file_data", "file_id");
                OptionalString(file, "filename", fileAt);
                var data = OptionalString(file, "file_data", fileAt);
                var id = OptionalString(file, "file_id", fileAt);
                if (data is null && id is null)
                {
                    throw OpenAIException.InvalidRequest(fileAt,
                        $"Invalid '{fileAt}': expected one of 'file_data' or 'file_id'.", "missing_required_parameter");
                }
                break;
        }
    }
}
