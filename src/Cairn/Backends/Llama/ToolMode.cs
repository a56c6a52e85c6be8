using System.Text.Json;
using Cairn.Llama;
using Cairn.OpenAI;

namespace Cairn.Backends.Llama;

/// <summary>
/// How a request's <c>tools</c> and <c>tool_choice</c> shape generation: not at all (<c>none</c> or no tools),
/// offered (<c>auto</c>: the model may write <c>&lt;tool_call&gt;</c>, after which the call is constrained to
/// the tools' schemas), or forced (<c>required</c> or a named function: the whole answer is constrained calls).
/// </summary>
internal sealed class ToolMode
{
    private readonly List<(string Name, JsonElement? Parameters)> functions = [];
    private bool parallel = true;

    public bool Offered { get; private set; }

    public bool Forced { get; private set; }

    public static ToolMode From(ChatCompletionRequest request)
    {
        var mode = new ToolMode();
        if (request.Tools is not { ValueKind: JsonValueKind.Array } tools || tools.GetArrayLength() == 0)
        {
            return mode;
        }
        var choice = request.ToolChoice;
        if (choice is { ValueKind: JsonValueKind.String } word && word.ValueEquals("none"u8))
        {
            return mode;
        }
        string? named = null;
        if (choice is { ValueKind: JsonValueKind.Object } picked)
        {
            if (!picked.GetProperty("type").ValueEquals("function"u8))
            {
                throw OpenAIException.InvalidRequest("tool_choice",
                    "This model supports tool_choice 'none', 'auto', 'required' and a named function.", "unsupported_parameter");
            }
            named = picked.GetProperty("function").GetProperty("name").GetString();
        }
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (JsonCheck.Get(tool, "function") is not { } function)
            {
                throw OpenAIException.InvalidRequest($"tools[{index}].type", "This model supports function tools only.", "unsupported_parameter");
            }
            var name = function.GetProperty("name").GetString()!;
            if (named is null || named == name)
            {
                mode.functions.Add((name, JsonCheck.Get(function, "parameters")));
            }
            index++;
        }
        if (named is not null && mode.functions.Count == 0)
        {
            throw OpenAIException.InvalidRequest("tool_choice", $"Tool choice '{named}' is not one of the tools given.", "invalid_value");
        }
        mode.Offered = true;
        mode.Forced = named is not null || (choice is { ValueKind: JsonValueKind.String } c && c.ValueEquals("required"u8));
        mode.parallel = named is null && !(request.Given.TryGetValue("parallel_tool_calls", out var p) && p.ValueKind == JsonValueKind.False);
        return mode;
    }

    /// <summary>The grammar of a whole forced answer: one call, or several when parallel calls are allowed.</summary>
    public string Grammar() => Build("root ::= \"" + Open + "\" calls\n");

    /// <summary>The grammar of what follows the trigger an offered answer wrote.</summary>
    public string GrammarAfterTrigger() => Build("root ::= [ \\n]{0,2} calls\n");

    private const string Open = "<tool_call>\\n";

    private string Build(string root)
    {
        var grammar = new JsonSchemaGrammar();
        var alternatives = new List<string>();
        for (var i = 0; i < functions.Count; i++)
        {
            var (name, parameters) = functions[i];
            var arguments = parameters is { } schema ? grammar.Rule(schema, $"tools[{i}].function.parameters") : JsonSchemaGrammar.AnyObjectRule;
            alternatives.Add($"\"{{\\\"name\\\": \" {JsonSchemaGrammar.Literal(LlamaPrompt.Quote(name))} \", \\\"arguments\\\": \" {arguments} \"}}\"");
        }
        var rules = root
            + "call ::= " + string.Join(" | ", alternatives) + "\n"
            + "calls ::= call \"\\n" + LlamaPrompt.CallClose + "\"" + (parallel ? " (\"\\n\" \"" + Open + "\" call \"\\n" + LlamaPrompt.CallClose + "\")*" : "") + "\n";
        return rules + grammar.Rules();
    }
}
