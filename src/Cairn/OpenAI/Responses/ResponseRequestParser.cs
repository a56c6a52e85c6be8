using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>Parses and validates a whole <c>POST /v1/responses</c> body, naming the failing field in <c>param</c>.</summary>
internal static class ResponseRequestParser
{
    private static readonly HashSet<string> KnownFields =
    [
        "model", "input", "instructions", "previous_response_id", "conversation", "prompt", "store", "background",
        "stream", "stream_options", "include", "tools", "tool_choice", "parallel_tool_calls", "text", "reasoning",
        "max_output_tokens", "max_tool_calls", "temperature", "top_p", "top_logprobs", "truncation", "metadata", "user",
        "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options", "service_tier",
        "moderation", "context_management",
    ];

    /// <summary>
    /// Chat Completions' names for what a response asks otherwise. Other fields outside the Responses API go to the
    /// model as they are (see <see cref="ResponseRequest.Extensions"/>); these would clash with, or bypass, what the
    /// request's own fields become, so they are refused with the Responses API's name.
    /// </summary>
    private static readonly Dictionary<string, string> ChatNames = new(StringComparer.Ordinal)
    {
        ["messages"] = "The Responses API takes the conversation as 'input'.",
        ["max_tokens"] = "The Responses API calls it 'max_output_tokens'.",
        ["max_completion_tokens"] = "The Responses API calls it 'max_output_tokens'.",
        ["response_format"] = "The Responses API calls it 'text.format'.",
        ["reasoning_effort"] = "The Responses API calls it 'reasoning.effort'.",
        ["verbosity"] = "The Responses API calls it 'text.verbosity'.",
        ["logprobs"] = "The Responses API asks for them with 'include': ['message.output_text.logprobs'].",
        ["functions"] = "The Responses API calls them 'tools'.",
        ["function_call"] = "The Responses API calls it 'tool_choice'.",
        ["n"] = "A response holds one answer; send one request per answer.",
        ["modalities"] = "Cairn's Responses API answers in text only.",
        ["audio"] = "Cairn's Responses API answers in text only.",
    };

    public const string OutputLogprobs = "message.output_text.logprobs";

    private static readonly string[] Includes =
    [
        "file_search_call.results", "web_search_call.results", "web_search_call.action.sources", "message.input_image.image_url",
        "computer_call_output.output.image_url", "code_interpreter_call.outputs", "reasoning.encrypted_content", OutputLogprobs,
    ];

    private static readonly string[] Efforts = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];
    private static readonly string[] Summaries = ["auto", "concise", "detailed"];

    public static ResponseRequest Parse(ReadOnlyMemory<byte> body)
    {
        var document = JsonBody.Parse(body);
        try
        {
            return Parse(document);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    private static ResponseRequest Parse(JsonDocument document)
    {
        var root = RequireBodyObject(document.RootElement);

        var given = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var extensions = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            given[property.Name] = property.Value;
            if (KnownFields.Contains(property.Name))
            {
                continue;
            }
            if (ChatNames.TryGetValue(property.Name, out var instead))
            {
                throw OpenAIException.InvalidRequest(property.Name, $"Unrecognized request argument supplied: '{property.Name}'. {instead}", "unknown_parameter");
            }
            extensions.Add(property.Name);
        }

        var model = RequireString(root, "model", "");
        if (model.Length == 0)
        {
            throw Invalid("model", "empty string. Expected a non-empty model id.", "empty_string");
        }
        if (Get(root, "conversation") is not null)
        {
            throw OpenAIException.InvalidRequest("conversation",
                "Cairn does not implement the Conversations API yet, so 'conversation' cannot be used. Continue a stored response with 'previous_response_id', or send the whole conversation as 'input'.",
                "unsupported_parameter");
        }
        if (Get(root, "prompt") is not null)
        {
            throw OpenAIException.InvalidRequest("prompt",
                "Cairn does not store prompt templates, so 'prompt' cannot be used. Send the prompt as 'instructions' and 'input'.",
                "unsupported_parameter");
        }
        var previousResponseId = ParsePreviousResponseId(root);

        var stream = OptionalBool(root, "stream", "") ?? false;
        var includeObfuscation = true;
        if (OptionalObject(root, "stream_options", "") is { } streamOptions)
        {
            if (!stream)
            {
                throw OpenAIException.InvalidRequest("stream_options",
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_value");
            }
            OnlyKnown(streamOptions, "stream_options", "include_obfuscation");
            includeObfuscation = OptionalBool(streamOptions, "include_obfuscation", "stream_options") ?? true;
        }

        var (input, inputText) = ResponseInputParser.Parse(root, previousResponseId is not null);
        var tools = ResponseToolsParser.ParseTools(root, model);
        var (format, verbosity) = ParseText(root);
        var request = new ResponseRequest(document)
        {
            Model = model,
            Input = input,
            InputText = inputText,
            Instructions = OptionalString(root, "instructions", ""),
            PreviousResponseId = previousResponseId,
            Store = OptionalBool(root, "store", "") ?? true,
            Background = OptionalBool(root, "background", "") ?? false,
            Stream = stream,
            IncludeObfuscation = includeObfuscation,
            Include = ParseInclude(root),
            Tools = tools,
            ToolChoice = ResponseToolsParser.ParseToolChoice(root, tools),
            ParallelToolCalls = OptionalBool(root, "parallel_tool_calls", "") ?? true,
            TextFormat = format,
            Verbosity = verbosity,
            MaxOutputTokens = (int?)OptionalInteger(root, "max_output_tokens", "", 16, int.MaxValue),
            MaxToolCalls = (int?)OptionalInteger(root, "max_tool_calls", "", 0, int.MaxValue),
            Temperature = OptionalNumber(root, "temperature", "", 0, 2),
            TopP = OptionalNumber(root, "top_p", "", 0, 1),
            TopLogprobs = (int?)OptionalInteger(root, "top_logprobs", "", 0, 20),
            Truncation = OptionalEnum(root, "truncation", "", "auto", "disabled") ?? "disabled",
            Reasoning = ParseReasoning(root),
            Metadata = MetadataParser.Parse(Get(root, "metadata"), "metadata"),
            User = OptionalString(root, "user", ""),
            SafetyIdentifier = OptionalString(root, "safety_identifier", "", 64),
            PromptCacheKey = OptionalString(root, "prompt_cache_key", ""),
            ServiceTier = OptionalEnum(root, "service_tier", "", "auto", "default", "flex", "scale", "priority", "fast", "ultrafast"),
            Given = given,
            Extensions = extensions,
        };

        OptionalEnum(root, "prompt_cache_retention", "", "in_memory", "24h");
        if (OptionalObject(root, "prompt_cache_options", "") is { } cacheOptions)
        {
            OnlyKnown(cacheOptions, "prompt_cache_options", "ttl", "mode");
            OptionalEnum(cacheOptions, "ttl", "prompt_cache_options", "30m");
            OptionalEnum(cacheOptions, "mode", "prompt_cache_options", "implicit", "explicit");
        }
        if (OptionalObject(root, "moderation", "") is { } moderation)
        {
            OnlyKnown(moderation, "moderation", "model", "policy");
            RequireString(moderation, "model", "moderation");
            OptionalObject(moderation, "policy", "moderation");
        }
        ParseContextManagement(root);
        return request;
    }

    private static string? ParsePreviousResponseId(JsonElement root)
    {
        if (OptionalString(root, "previous_response_id", "") is not { } id)
        {
            return null;
        }
        if (!id.StartsWith("resp", StringComparison.Ordinal))
        {
            throw OpenAIException.InvalidRequest("previous_response_id",
                $"Invalid 'previous_response_id': '{id}'. Expected an ID that begins with 'resp'.", "invalid_id_prefix");
        }
        JsonBody.RefuseNul(id, "previous_response_id");
        return id;
    }

    private static IReadOnlyList<string> ParseInclude(JsonElement root)
    {
        if (OptionalArray(root, "include", "", 0, int.MaxValue) is not { } include)
        {
            return [];
        }
        var values = new List<string>();
        var index = 0;
        foreach (var item in include.EnumerateArray())
        {
            var at = Path("include", index++);
            var value = String(item, at);
            if (Array.IndexOf(Includes, value) < 0)
            {
                throw InvalidValue(at, value, Includes);
            }
            values.Add(value);
        }
        return values;
    }

    /// <summary><c>text</c>: the format as sent (null for plain text) and the verbosity (<c>medium</c> unless sent).</summary>
    private static (JsonElement? Format, string Verbosity) ParseText(JsonElement root)
    {
        if (OptionalObject(root, "text", "") is not { } text)
        {
            return (null, "medium");
        }
        OnlyKnown(text, "text", "format", "verbosity");
        var verbosity = OptionalEnum(text, "verbosity", "text", "low", "medium", "high") ?? "medium";
        if (OptionalObject(text, "format", "text") is not { } format)
        {
            return (null, verbosity);
        }
        const string at = "text.format";
        if (RequireEnum(format, "type", at, "text", "json_schema", "json_object") != "json_schema")
        {
            OnlyKnown(format, at, "type");
            return (format, verbosity);
        }
        OnlyKnown(format, at, "type", "name", "schema", "description", "strict");
        ToolsParser.CheckName(RequireString(format, "name", at), Path(at, "name"));
        RequireObject(RequireProperty(format, "schema", at), Path(at, "schema"));
        OptionalString(format, "description", at);
        OptionalBool(format, "strict", at);
        return (format, verbosity);
    }

    private static JsonElement? ParseReasoning(JsonElement root)
    {
        if (OptionalObject(root, "reasoning", "") is not { } reasoning)
        {
            return null;
        }
        OnlyKnown(reasoning, "reasoning", "effort", "summary", "generate_summary", "context", "mode");
        OptionalEnum(reasoning, "effort", "reasoning", Efforts);
        OptionalEnum(reasoning, "summary", "reasoning", Summaries);
        OptionalEnum(reasoning, "generate_summary", "reasoning", Summaries);
        OptionalEnum(reasoning, "context", "reasoning", "auto", "current_turn", "all_turns");
        OptionalString(reasoning, "mode", "reasoning");
        return reasoning;
    }

    /// <summary><c>context_management</c> (server-side compaction) is checked and otherwise not acted on.</summary>
    private static void ParseContextManagement(JsonElement root)
    {
        if (OptionalArray(root, "context_management", "", 1, int.MaxValue) is not { } entries)
        {
            return;
        }
        var index = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var at = Path("context_management", index++);
            RequireObject(entry, at);
            OnlyKnown(entry, at, "type", "compact_threshold");
            RequireString(entry, "type", at);
            OptionalInteger(entry, "compact_threshold", at, 1000, int.MaxValue);
        }
    }
}
