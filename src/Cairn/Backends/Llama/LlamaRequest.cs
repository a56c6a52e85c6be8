using System.Globalization;
using System.Text.Json;
using Cairn.Llama;
using Cairn.OpenAI;
using Cairn.Models;

namespace Cairn.Backends.Llama;

/// <summary>
/// What one request asks of a local model, checked against what the engine can honour: the prompt's tokens and
/// one <see cref="SamplingSettings"/> per choice. Anything it cannot honour is a 400 naming the parameter.
/// </summary>
internal sealed record LlamaRequest(int[] Prompt, IReadOnlyList<SamplingSettings> Choices, long Seed)
{
    // Parameters of the Chat Completions API that a local model cannot honour.
    private static readonly string[] Unsupported = ["audio", "web_search_options", "prediction", "functions", "function_call", "reasoning_effort", "verbosity"];

    public static LlamaRequest Plan(ChatCompletionRequest request, LlamaEngine engine, ModelOptions defaults, Random random)
    {
        if (request.Extensions.Count > 0)
        {
            var name = request.Extensions[0];
            throw OpenAIException.InvalidRequest(name, $"Unrecognized request argument supplied: '{name}'.", "unknown_parameter");
        }
        foreach (var name in Unsupported)
        {
            if (request.Given.ContainsKey(name))
            {
                throw CannotHonour(request.Model, name, $"'{name}'");
            }
        }
        if (request.Given.TryGetValue("modalities", out var modalities) && modalities.EnumerateArray().Any(m => m.ValueEquals("audio"u8)))
        {
            throw CannotHonour(request.Model, "modalities", "audio output");
        }

        if (request.N > engine.Options.ParallelSequences + engine.Options.MaxQueue)
        {
            // Retrying would never help: the choices could not all be queued even on an idle model.
            throw OpenAIException.InvalidRequest("n",
                $"This model serves at most {engine.Options.ParallelSequences + engine.Options.MaxQueue} choices per request (ParallelSequences plus MaxQueue); got n = {request.N}.",
                "invalid_value");
        }
        var tools = ToolMode.From(request);
        var turns = LlamaPrompt.Turns(request.Messages, tools.Offered ? request.Tools : null);

        var grammar = ResponseGrammar(request, engine);
        if (grammar is not null && tools.Offered)
        {
            throw OpenAIException.InvalidRequest("response_format",
                "This model cannot combine 'response_format' json_object or json_schema with tools; send one or the other.", "unsupported_parameter");
        }
        string? toolGrammar = null;
        string? triggerGrammar = null;
        try
        {
            if (tools.Offered)
            {
                toolGrammar = Checked(engine, tools.Grammar(), "tools");
                triggerGrammar = Checked(engine, tools.GrammarAfterTrigger(), "tools");
            }
        }
        catch (GrammarException e)
        {
            throw OpenAIException.InvalidRequest(e.At, $"Invalid schema for function: {e.Message}", "invalid_function_parameters");
        }
        var bias = LogitBias(request, engine);
        // Checked last, so that a bad parameter is named before the prompt is measured.
        var prompt = engine.Vocab.Tokenize(engine.Render(turns), special: true);
        if (prompt.Length >= engine.ContextSize)
        {
            throw OpenAIException.InvalidRequest("messages",
                $"This model's maximum context length is {engine.ContextSize} tokens. However, your messages resulted in {prompt.Length} tokens. Please reduce the length of the messages.",
                "context_length_exceeded");
        }
        var drawn = request.Seed ?? random.NextInt64();
        var seed = unchecked((ulong)drawn);
        var choices = new SamplingSettings[request.N];
        for (var i = 0; i < choices.Length; i++)
        {
            choices[i] = new SamplingSettings
            {
                Temperature = (float)(request.Temperature ?? defaults.Temperature),
                TopP = (float)(request.TopP ?? defaults.TopP),
                // Each choice draws from its own stream, so n choices differ and each is reproducible alone.
                Seed = seed + (ulong)i * 0x9E3779B97F4A7C15UL,
                PresencePenalty = (float)(request.PresencePenalty ?? 0),
                FrequencyPenalty = (float)(request.FrequencyPenalty ?? 0),
                LogitBias = bias,
                TopLogprobs = request.Logprobs ? request.TopLogprobs ?? 0 : null,
                MaxTokens = request.MaxCompletionTokens ?? int.MaxValue,
                Stop = request.Stop,
                Grammar = tools.Forced ? toolGrammar : grammar,
                ToolCallsOnly = tools.Forced,
                Trigger = tools.Offered && !tools.Forced ? LlamaPrompt.CallOpen : null,
                TriggerGrammar = tools.Offered && !tools.Forced ? triggerGrammar : null,
            };
        }
        return new LlamaRequest(prompt, choices, drawn);
    }

    private static string? ResponseGrammar(ChatCompletionRequest request, LlamaEngine engine)
    {
        if (request.ResponseFormat is not { } format)
        {
            return null;
        }
        var type = format.GetProperty("type").GetString();
        if (type == "json_object")
        {
            return Checked(engine, JsonSchemaGrammar.AnyObject(), "response_format");
        }
        if (type != "json_schema")
        {
            return null;
        }
        var definition = format.GetProperty("json_schema");
        if (JsonCheck.Get(definition, "schema") is not { } schema)
        {
            return Checked(engine, JsonSchemaGrammar.AnyObject(), "response_format");
        }
        try
        {
            return Checked(engine, JsonSchemaGrammar.FromSchema(schema), "response_format.json_schema.schema");
        }
        catch (GrammarException e)
        {
            throw OpenAIException.InvalidRequest("response_format.json_schema.schema",
                $"Invalid schema for response_format '{definition.GetProperty("name").GetString()}': {e.Message}", "invalid_json_schema");
        }
    }

    /// <summary>
    /// The last check before a grammar reaches the sampler: llama.cpp's own parser. A grammar it refuses would
    /// crash the process in LLamaSharp's sampler chain; here it is a 400.
    /// </summary>
    internal static string Checked(LlamaEngine engine, string gbnf, string param) =>
        engine.Vocab.Accepts(gbnf)
            ? gbnf
            : throw OpenAIException.InvalidRequest(param, $"The constraint built from '{param}' is not a grammar llama.cpp accepts.", "invalid_grammar");

    private static Dictionary<int, float> LogitBias(ChatCompletionRequest request, LlamaEngine engine)
    {
        var bias = new Dictionary<int, float>();
        if (!request.Given.TryGetValue("logit_bias", out var given))
        {
            return bias;
        }
        foreach (var entry in given.EnumerateObject())
        {
            var token = int.Parse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture);
            if (token >= engine.Vocab.Count)
            {
                throw OpenAIException.InvalidRequest("logit_bias",
                    $"Invalid key in 'logit_bias': {entry.Name} is not a token of this model (its vocabulary has {engine.Vocab.Count} tokens).", "invalid_value");
            }
            bias[token] = (float)entry.Value.GetDouble();
        }
        return bias;
    }

    private static OpenAIException CannotHonour(string model, string param, string what) =>
        OpenAIException.InvalidRequest(param,
            $"The model `{model}` does not support {what}. Remove '{param}' or choose another model.", "unsupported_parameter");
}
