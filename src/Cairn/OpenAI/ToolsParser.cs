using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI;

/// <summary>Validates <c>tools</c>, <c>tool_choice</c> and the deprecated <c>functions</c>/<c>function_call</c>.</summary>
internal static class ToolsParser
{
    public const int MaxTools = 128;

    public static void CheckName(string name, string at)
    {
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw Invalid(at, $"'{name}' does not match '^[a-zA-Z0-9_-]{{1,64}}$'. Names may use letters, digits, '_' and '-', up to 64 characters.", "invalid_value");
        }
    }

    public static JsonElement? ParseTools(JsonElement root)
    {
        if (OptionalArray(root, "tools", "", 0, MaxTools) is not { } tools)
        {
            return null;
        }
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            ParseTool(tool, Path("tools", index++));
        }
        return tools;
    }

    private static void ParseTool(JsonElement tool, string at)
    {
        RequireObject(tool, at);
        var type = RequireEnum(tool, "type", at, "function", "custom");
        OnlyKnown(tool, at, "type", type);
        var body = RequireObject(RequireProperty(tool, type, at), Path(at, type));
        var bodyAt = Path(at, type);
        CheckName(RequireString(body, "name", bodyAt), Path(bodyAt, "name"));
        OptionalString(body, "description", bodyAt);
        if (type == "function")
        {
            OnlyKnown(body, bodyAt, "name", "description", "parameters", "strict");
            OptionalObject(body, "parameters", bodyAt);
            OptionalBool(body, "strict", bodyAt);
            return;
        }
        OnlyKnown(body, bodyAt, "name", "description", "format");
        if (OptionalObject(body, "format", bodyAt) is { } format)
        {
            var formatAt = Path(bodyAt, "format");
            var formatType = RequireEnum(format, "type", formatAt, "text", "grammar");
            if (formatType == "grammar")
            {
                var grammar = RequireObject(RequireProperty(format, "grammar", formatAt), Path(formatAt, "grammar"));
                RequireString(grammar, "definition", Path(formatAt, "grammar"));
                RequireEnum(grammar, "syntax", Path(formatAt, "grammar"), "lark", "regex");
            }
        }
    }

    public static JsonElement? ParseToolChoice(JsonElement root, JsonElement? tools)
    {
        if (Get(root, "tool_choice") is not { } choice)
        {
            return null;
        }
        if (tools is null)
        {
            throw OpenAIException.InvalidRequest("tool_choice",
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "invalid_value");
        }
        if (choice.ValueKind == JsonValueKind.String)
        {
            var mode = choice.GetString()!;
            if (mode is not ("none" or "auto" or "required"))
            {
                throw InvalidValue("tool_choice", mode, ["none", "auto", "required"]);
            }
            return choice;
        }
        if (choice.ValueKind != JsonValueKind.Object)
        {
            throw InvalidType("tool_choice", "a string or an object", choice);
        }
        var type = RequireEnum(choice, "type", "tool_choice", "function", "custom", "allowed_tools");
        OnlyKnown(choice, "tool_choice", "type", type);
        var body = RequireObject(RequireProperty(choice, type, "tool_choice"), Path("tool_choice", type));
        if (type == "allowed_tools")
        {
            OnlyKnown(body, "tool_choice.allowed_tools", "mode", "tools");
            RequireEnum(body, "mode", "tool_choice.allowed_tools", "auto", "required");
            var allowed = Get(body, "tools") ?? throw Missing("tool_choice.allowed_tools.tools");
            if (allowed.ValueKind != JsonValueKind.Array)
            {
                throw InvalidType("tool_choice.allowed_tools.tools", "an array", allowed);
            }
            return choice;
        }
        OnlyKnown(body, Path("tool_choice", type), "name");
        var name = RequireString(body, "name", Path("tool_choice", type));
        if (!tools.Value.EnumerateArray().Any(t => t.GetProperty("type").ValueEquals(type) && t.GetProperty(type).GetProperty("name").ValueEquals(name)))
        {
            throw OpenAIException.InvalidRequest(Path(Path("tool_choice", type), "name"),
                $"Invalid value for 'tool_choice': no {type} tool named '{name}' was given in 'tools'.", "invalid_value");
        }
        return choice;
    }

    public static void ParseFunctions(JsonElement root)
    {
        if (OptionalArray(root, "functions", "", 1, MaxTools) is { } functions)
        {
            var index = 0;
            foreach (var function in functions.EnumerateArray())
            {
                var at = Path("functions", index++);
                RequireObject(function, at);
                OnlyKnown(function, at, "name", "description", "parameters");
                CheckName(RequireString(function, "name", at), Path(at, "name"));
                OptionalString(function, "description", at);
                OptionalObject(function, "parameters", at);
            }
        }
        if (Get(root, "function_call") is { } call)
        {
            if (call.ValueKind == JsonValueKind.String)
            {
                var mode = call.GetString()!;
                if (mode is not ("none" or "auto"))
                {
                    throw InvalidValue("function_call", mode, ["none", "auto"]);
                }
            }
            else
            {
                RequireObject(call, "function_call");
                OnlyKnown(call, "function_call", "name");
                RequireString(call, "name", "function_call");
            }
        }
    }
}
