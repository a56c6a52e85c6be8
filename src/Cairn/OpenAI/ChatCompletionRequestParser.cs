using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI;

/// <summary>
/// Parses and validates a whole Chat Completions request body against the OpenAI API: every field's type,
/// range and enum, with the failing field's path in <c>param</c>.
/// </summary>
internal static class ChatCompletionRequestParser
{
    private static readonly HashSet<string> KnownFields =
    [
        "messages", "model", "metadata", "store", "stream", "stream_options", "temperature", "top_p", "n",
        "max_completion_tokens", "max_tokens", "frequency_penalty", "presence_penalty", "stop", "logit_bias",
        "logprobs", "top_logprobs", "seed", "response_format", "tools", "tool_choice", "parallel_tool_calls",
        "functions", "function_call", "user", "safety_identifier", "prompt_cache_key", "prompt_cache_retention",
        "prompt_cache_options", "service_tier", "modalities", "audio", "verbosity", "reasoning_effort",
        "prediction", "web_search_options", "moderation",
    ];

    public static ChatCompletionRequest Parse(ReadOnlyMemory<byte> body)
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

    /// <summary>
    /// Parses a chat request Cairn wrote itself (the one that answers a response): already checked JSON, read with
    /// the stored depth, since a tool's parameters sit one level deeper in chat's shape than in the Responses API's.
    /// </summary>
    public static ChatCompletionRequest ParseWritten(ReadOnlyMemory<byte> body)
    {
        var document = JsonDocument.Parse(body, JsonBody.Stored);
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

    private static ChatCompletionRequest Parse(JsonDocument document)
    {
        var root = RequireBodyObject(document.RootElement);

        var given = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var extensions = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null)
            {
                given[property.Name] = property.Value;
            }
            if (!KnownFields.Contains(property.Name))
            {
                extensions.Add(property.Name);
            }
        }

        var messages = Get(root, "messages") ?? throw Missing("messages");
        var model = RequireString(root, "model", "");
        if (model.Length == 0)
        {
            throw Invalid("model", "empty string. Expected a non-empty model id.", "empty_string");
        }

        var stream = OptionalBool(root, "stream", "") ?? false;
        var streamOptions = OptionalObject(root, "stream_options", "");
        var includeUsage = false;
        if (streamOptions is { } options)
        {
            if (!stream)
            {
                throw OpenAIException.InvalidRequest("stream_options",
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_value");
            }
            OnlyKnown(options, "stream_options", "include_usage", "include_obfuscation");
            includeUsage = OptionalBool(options, "include_usage", "stream_options") ?? false;
            OptionalBool(options, "include_obfuscation", "stream_options");
        }

        var maxTokens = OptionalInteger(root, "max_tokens", "", 1, int.MaxValue);
        var maxCompletionTokens = OptionalInteger(root, "max_completion_tokens", "", 1, int.MaxValue);
        var logprobs = OptionalBool(root, "logprobs", "") ?? false;
        var topLogprobs = OptionalInteger(root, "top_logprobs", "", 0, 20);
        if (topLogprobs is not null && !logprobs)
        {
            throw OpenAIException.InvalidRequest("top_logprobs",
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", "invalid_value");
        }

        var tools = ToolsParser.ParseTools(root);
        var toolChoice = ToolsParser.ParseToolChoice(root, tools);
        OptionalBool(root, "parallel_tool_calls", "");
        ToolsParser.ParseFunctions(root);

        var request = new ChatCompletionRequest(document)
        {
            Model = model,
            Messages = MessageParser.ParseMessages(messages),
            Store = OptionalBool(root, "store", "") ?? false,
            Stream = stream,
            IncludeUsage = includeUsage,
            Temperature = OptionalNumber(root, "temperature", "", 0, 2),
            TopP = OptionalNumber(root, "top_p", "", 0, 1),
            FrequencyPenalty = OptionalNumber(root, "frequency_penalty", "", -2, 2),
            PresencePenalty = OptionalNumber(root, "presence_penalty", "", -2, 2),
            N = (int)(OptionalInteger(root, "n", "", 1, 128) ?? 1),
            MaxCompletionTokens = (int?)(maxCompletionTokens ?? maxTokens),
            Stop = ParseStop(root),
            Seed = OptionalInteger(root, "seed", "", long.MinValue, long.MaxValue),
            Logprobs = logprobs,
            TopLogprobs = (int?)topLogprobs,
            Metadata = MetadataParser.Parse(Get(root, "metadata"), "metadata"),
            User = OptionalString(root, "user", ""),
            Tools = tools,
            ToolChoice = toolChoice,
            ResponseFormat = ParseResponseFormat(root),
            Given = given,
            Extensions = extensions,
        };

        ParseLogitBias(root);
        OptionalString(root, "safety_identifier", "", 64);
        OptionalString(root, "prompt_cache_key", "");
        OptionalEnum(root, "prompt_cache_retention", "", "in_memory", "24h");
        if (OptionalObject(root, "prompt_cache_options", "") is { } cacheOptions)
        {
            OnlyKnown(cacheOptions, "prompt_cache_options", "ttl", "mode");
            OptionalEnum(cacheOptions, "ttl", "prompt_cache_options", "30m");
            OptionalEnum(cacheOptions, "mode", "prompt_cache_options", "implicit", "explicit");
        }
        OptionalEnum(root, "service_tier", "", "auto", "default", "flex", "scale", "priority", "fast");
        OptionalEnum(root, "verbosity", "", "low", "medium", "high");
        OptionalEnum(root, "reasoning_effort", "", "none", "minimal", "low", "medium", "high", "xhigh", "max");
        var modalities = ParseModalities(root);
        ParseAudio(root, modalities);
        ParsePrediction(root);
        ParseWebSearchOptions(root);
        ParseModeration(root);
        return request;
    }

    private static IReadOnlyList<string> ParseStop(JsonElement root)
    {
        if (Get(root, "stop") is not { } stop)
        {
            return [];
        }
        if (stop.ValueKind == JsonValueKind.String)
        {
            return [stop.GetString()!];
        }
        if (stop.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType("stop", "a string or an array of strings", stop);
        }
        CheckLength(stop, "stop", 1, 4);
        var sequences = new List<string>(4);
        var index = 0;
        foreach (var item in stop.EnumerateArray())
        {
            sequences.Add(String(item, Path("stop", index++)));
        }
        return sequences;
    }

    private static void ParseLogitBias(JsonElement root)
    {
        if (OptionalObject(root, "logit_bias", "") is not { } bias)
        {
            return;
        }
        foreach (var entry in bias.EnumerateObject())
        {
            var at = Path("logit_bias", entry.Name);
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, null, out _))
            {
                throw Invalid("logit_bias", $"key '{entry.Name}' is not a token id. Expected keys that are token ids written as decimal integers.");
            }
            if (entry.Value.ValueKind != JsonValueKind.Number)
            {
                throw InvalidType(at, "an integer", entry.Value);
            }
            OptionalInteger(bias, entry.Name, "logit_bias", -100, 100);
        }
    }

    private static JsonElement? ParseResponseFormat(JsonElement root)
    {
        if (OptionalObject(root, "response_format", "") is not { } format)
        {
            return null;
        }
        const string at = "response_format";
        var type = RequireEnum(format, "type", at, "text", "json_object", "json_schema");
        if (type != "json_schema")
        {
            OnlyKnown(format, at, "type");
            return format;
        }
        OnlyKnown(format, at, "type", "json_schema");
        var schema = RequireObject(RequireProperty(format, "json_schema", at), "response_format.json_schema");
        const string schemaAt = "response_format.json_schema";
        OnlyKnown(schema, schemaAt, "name", "description", "schema", "strict");
        ToolsParser.CheckName(RequireString(schema, "name", schemaAt), Path(schemaAt, "name"));
        OptionalString(schema, "description", schemaAt);
        OptionalObject(schema, "schema", schemaAt);
        OptionalBool(schema, "strict", schemaAt);
        return format;
    }

    private static IReadOnlyList<string> ParseModalities(JsonElement root)
    {
        if (OptionalArray(root, "modalities", "", 0, 2) is not { } modalities)
        {
            return [];
        }
        var values = new List<string>();
        var index = 0;
        foreach (var item in modalities.EnumerateArray())
        {
            var at = Path("modalities", index++);
            var value = String(item, at);
            if (value is not ("text" or "audio"))
            {
                throw InvalidValue(at, value, ["text", "audio"]);
            }
            values.Add(value);
        }
        return values;
    }

    private static void ParseAudio(JsonElement root, IReadOnlyList<string> modalities)
    {
        var audio = OptionalObject(root, "audio", "");
        if (audio is { } value)
        {
            OnlyKnown(value, "audio", "voice", "format");
            var voice = RequireProperty(value, "voice", "audio");
            if (voice.ValueKind == JsonValueKind.Object)
            {
                RequireString(voice, "id", "audio.voice");
            }
            else
            {
                String(voice, "audio.voice");
            }
            RequireEnum(value, "format", "audio", "wav", "aac", "mp3", "flac", "opus", "pcm16");
        }
        if (modalities.Contains("audio") && audio is null)
        {
            throw OpenAIException.InvalidRequest("audio",
                "Missing required parameter: 'audio'. It is required when 'modalities' includes 'audio'.", "missing_required_parameter");
        }
    }

    private static void ParsePrediction(JsonElement root)
    {
        if (OptionalObject(root, "prediction", "") is not { } prediction)
        {
            return;
        }
        OnlyKnown(prediction, "prediction", "type", "content");
        RequireEnum(prediction, "type", "prediction", "content");
        var content = RequireProperty(prediction, "content", "prediction");
        if (content.ValueKind == JsonValueKind.Array)
        {
            CheckLength(content, "prediction.content", 1, int.MaxValue);
            MessageParser.ParseParts(content, "prediction.content", ["text"]);
        }
        else
        {
            String(content, "prediction.content");
        }
    }

    private static void ParseWebSearchOptions(JsonElement root)
    {
        if (OptionalObject(root, "web_search_options", "") is not { } options)
        {
            return;
        }
        const string at = "web_search_options";
        OnlyKnown(options, at, "user_location", "search_context_size");
        OptionalEnum(options, "search_context_size", at, "low", "medium", "high");
        if (OptionalObject(options, "user_location", at) is { } location)
        {
            const string locationAt = "web_search_options.user_location";
            OnlyKnown(location, locationAt, "type", "approximate");
            RequireEnum(location, "type", locationAt, "approximate");
            var approximate = RequireObject(RequireProperty(location, "approximate", locationAt), Path(locationAt, "approximate"));
            const string approximateAt = "web_search_options.user_location.approximate";
            OnlyKnown(approximate, approximateAt, "country", "region", "city", "timezone");
            foreach (var name in (string[])["country", "region", "city", "timezone"])
            {
                OptionalString(approximate, name, approximateAt);
            }
        }
    }

    private static void ParseModeration(JsonElement root)
    {
        if (OptionalObject(root, "moderation", "") is not { } moderation)
        {
            return;
        }
        OnlyKnown(moderation, "moderation", "model", "policy");
        RequireString(moderation, "model", "moderation");
        if (OptionalObject(moderation, "policy", "moderation") is { } policy)
        {
            OnlyKnown(policy, "moderation.policy", "input", "output");
            foreach (var side in (string[])["input", "output"])
            {
                if (OptionalObject(policy, side, "moderation.policy") is { } mode)
                {
                    OptionalString(mode, "mode", Path("moderation.policy", side));
                }
            }
        }
    }
}
