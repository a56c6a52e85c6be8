using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// Validates a Responses <c>tools</c> (function tools, flat: <c>{type, name, description, parameters, strict}</c>) and
/// <c>tool_choice</c>. Hosted tools (web search, file search, code interpreter, MCP, …) run at OpenAI; Cairn answers
/// through Chat Completions models, which call functions only, so they are refused by name.
/// </summary>
internal static class ResponseToolsParser
{
    public static JsonElement? ParseTools(JsonElement root, string model)
    {
        if (OptionalArray(root, "tools", "", 0, ToolsParser.MaxTools) is not { } tools)
        {
            return null;
        }
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = Path("tools", index++);
            RequireObject(tool, at);
            var type = RequireString(tool, "type", at);
            if (type != "function")
            {
                throw OpenAIException.InvalidRequest(Path(at, "type"),
                    $"Tool '{type}' is not supported with {model}: Cairn answers through Chat Completions models, which call function tools only.",
                    "unsupported_value");
            }
            OnlyKnown(tool, at, "type", "name", "description", "parameters", "strict");
            ToolsParser.CheckName(RequireString(tool, "name", at), Path(at, "name"));
            OptionalString(tool, "description", at);
            OptionalObject(tool, "parameters", at);
            OptionalBool(tool, "strict", at);
        }
        return tools;
    }

    /// <summary>
    /// <c>none</c>, <c>auto</c>, <c>required</c> (with tools), <c>{type:"function", name}</c> or
    /// <c>{type:"allowed_tools", mode, tools}</c> naming functions of <paramref name="tools"/>.
    /// </summary>
    public static JsonElement? ParseToolChoice(JsonElement root, JsonElement? tools)
    {
        if (Get(root, "tool_choice") is not { } choice)
        {
            return null;
        }
        if (choice.ValueKind == JsonValueKind.String)
        {
            var mode = choice.GetString()!;
            if (mode is not ("none" or "auto" or "required"))
            {
                throw InvalidValue("tool_choice", mode, ["none", "auto", "required"]);
            }
            if (mode == "required" && (tools is not { } given || given.GetArrayLength() == 0))
            {
                throw OpenAIException.InvalidRequest("tool_choice",
                    "Invalid value for 'tool_choice': 'required' needs at least one tool in 'tools'.", "invalid_value");
            }
            return choice;
        }
        if (choice.ValueKind != JsonValueKind.Object)
        {
            throw InvalidType("tool_choice", "a string or an object", choice);
        }
        var type = RequireString(choice, "type", "tool_choice");
        switch (type)
        {
            case "function":
                OnlyKnown(choice, "tool_choice", "type", "name");
                RequireFunction(tools, RequireString(choice, "name", "tool_choice"), "tool_choice.name");
                break;
            case "allowed_tools":
                OnlyKnown(choice, "tool_choice", "type", "mode", "tools");
                RequireEnum(choice, "mode", "tool_choice", "auto", "required");
                var allowed = OptionalArray(choice, "tools", "tool_choice", 1, ToolsParser.MaxTools) ?? throw Missing("tool_choice.tools");
                var index = 0;
                foreach (var tool in allowed.EnumerateArray())
                {
                    var at = Path("tool_choice.tools", index++);
                    RequireObject(tool, at);
                    var toolType = RequireString(tool, "type", at);
                    if (toolType != "function")
                    {
                        throw OpenAIException.InvalidRequest(Path(at, "type"),
                            $"Invalid value: '{toolType}'. Cairn's models call function tools only, so only functions may be allowed.", "unsupported_value");
                    }
                    OnlyKnown(tool, at, "type", "name");
                    RequireFunction(tools, RequireString(tool, "name", at), Path(at, "name"));
                }
                break;
            default:
                throw OpenAIException.InvalidRequest("tool_choice.type",
                    $"Invalid value: '{type}'. Cairn's models call function tools only: use 'none', 'auto', 'required', a function or 'allowed_tools' of functions.",
                    "unsupported_value");
        }
        return choice;
    }

    private static void RequireFunction(JsonElement? tools, string name, string at)
    {
        if (tools is not { } given || !given.EnumerateArray().Any(t => t.GetProperty("name").ValueEquals(name)))
        {
            throw OpenAIException.InvalidRequest(at,
                $"Invalid value for 'tool_choice': no function tool named '{name}' was given in 'tools'.", "invalid_value");
        }
    }
}
