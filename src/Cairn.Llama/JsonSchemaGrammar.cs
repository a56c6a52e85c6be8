using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cairn.Llama;

/// <summary>
/// Writes GBNF grammars (llama.cpp's) from JSON Schemas, so constrained generation can only produce JSON that
/// matches the schema. Supported: <c>type</c> (one or a list), <c>properties</c>/<c>required</c> (properties in
/// schema order, optional ones may be left out), <c>additionalProperties</c> (only named properties are written),
/// <c>items</c>/<c>minItems</c>/<c>maxItems</c>, <c>enum</c>, <c>const</c>, <c>anyOf</c>/<c>oneOf</c>,
/// single-schema <c>allOf</c>, <c>minLength</c>/<c>maxLength</c>, <c>$ref</c> into <c>$defs</c>/<c>definitions</c>
/// (recursion included). A keyword that constrains values in a way a grammar here cannot (<c>pattern</c>,
/// <c>format</c>, <c>minimum</c>, …) is refused with <see cref="GrammarException"/> rather than ignored.
/// </summary>
internal sealed class JsonSchemaGrammar
{
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "strict", "$defs", "definitions",
        "additionalProperties", "required", "properties", "items", "minItems", "maxItems", "type", "enum", "const",
        "anyOf", "oneOf", "allOf", "minLength", "maxLength", "$ref", "nullable", "deprecated", "readOnly", "writeOnly",
    };

    private const string Primitives = """
        ws ::= [ \t\n]{0,8}
        char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
        string ::= "\"" char{0,256} "\""
        integer ::= "-"? ("0" | [1-9] [0-9]{0,15})
        number ::= integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?
        boolean ::= "true" | "false"
        null ::= "null"
        value ::= object | array | string | number | boolean | null
        object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
        array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"

        """;

    private readonly StringBuilder rules = new();
    private readonly Dictionary<string, string> refs = new(StringComparer.Ordinal);
    private JsonElement root;
    private int next;

    /// <summary>A grammar for any JSON object (<c>response_format: json_object</c>).</summary>
    public static string AnyObject() => "root ::= ws object ws\n" + Primitives;

    /// <summary>A grammar for JSON matching <paramref name="schema"/>.</summary>
    public static string FromSchema(JsonElement schema)
    {
        var grammar = new JsonSchemaGrammar();
        var rule = grammar.Rule(schema, "schema");
        return $"root ::= ws {rule} ws\n" + grammar.Rules();
    }

    /// <summary>The rule for any JSON object (arguments of a function without a schema).</summary>
    public const string AnyObjectRule = "object";

    /// <summary>The rules written so far, with the shared primitives.</summary>
    public string Rules() => rules + Primitives;

    /// <summary>A GBNF literal matching exactly <paramref name="text"/>.</summary>
    public static string Literal(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return builder.Append('"').ToString();
    }

    /// <summary>The name of a rule matching <paramref name="schema"/> (rules it needs are added); <paramref name="at"/> names it in errors.</summary>
    public string Rule(JsonElement schema, string at)
    {
        if (root.ValueKind == JsonValueKind.Undefined)
        {
            root = schema;
        }
        if (schema.ValueKind == JsonValueKind.True)
        {
            return "value";
        }
        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new GrammarException(at, "a schema must be an object (or true).");
        }
        foreach (var property in schema.EnumerateObject())
        {
            if (!Ignored.Contains(property.Name))
            {
                throw new GrammarException(at, $"the keyword '{property.Name}' is not supported for constrained generation.");
            }
        }
        if (Get(schema, "$ref") is { } reference)
        {
            return Ref(reference.GetString() ?? "", at);
        }
        if (Get(schema, "const") is { } constant)
        {
            return Add(Literal(constant.GetRawText()));
        }
        if (Get(schema, "enum") is { } values)
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new GrammarException(at, "'enum' must be a non-empty array.");
            }
            return Add(string.Join(" | ", values.EnumerateArray().Select(v => Literal(Compact(v)))));
        }
        foreach (var keyword in (string[])["anyOf", "oneOf"])
        {
            if (Get(schema, keyword) is { ValueKind: JsonValueKind.Array } options && options.GetArrayLength() > 0)
            {
                return Add(string.Join(" | ", options.EnumerateArray().Select((o, i) => Rule(o, $"{at}.{keyword}[{i}]"))));
            }
        }
        if (Get(schema, "allOf") is { } all)
        {
            if (all.ValueKind != JsonValueKind.Array || all.GetArrayLength() != 1)
            {
                throw new GrammarException(at, "'allOf' is supported with exactly one schema.");
            }
            return Rule(all[0], at + ".allOf[0]");
        }
        if (Get(schema, "type") is not { } type)
        {
            return Get(schema, "properties") is not null ? ObjectRule(schema, at) : "value";
        }
        if (type.ValueKind == JsonValueKind.Array)
        {
            return Add(string.Join(" | ", type.EnumerateArray().Select(t => TypeRule(schema, t.GetString() ?? "", at))));
        }
        var rule = TypeRule(schema, type.GetString() ?? "", at);
        return Get(schema, "nullable") is { ValueKind: JsonValueKind.True } ? Add(rule + " | null") : rule;
    }

    private string TypeRule(JsonElement schema, string type, string at) => type switch
    {
        "object" => ObjectRule(schema, at),
        "array" => ArrayRule(schema, at),
        "string" => StringRule(schema, at),
        "integer" => "integer",
        "number" => "number",
        "boolean" => "boolean",
        "null" => "null",
        _ => throw new GrammarException(at, $"'{type}' is not a JSON Schema type."),
    };

    private string ObjectRule(JsonElement schema, string at)
    {
        if (Get(schema, "properties") is not { ValueKind: JsonValueKind.Object } properties || !properties.EnumerateObject().Any())
        {
            return "object";
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (Get(schema, "required") is { ValueKind: JsonValueKind.Array } names)
        {
            foreach (var name in names.EnumerateArray())
            {
                required.Add(name.GetString() ?? "");
            }
        }
        var mandatory = new List<string>();
        var optional = new List<string>();
        foreach (var property in properties.EnumerateObject())
        {
            var value = Rule(property.Value, $"{at}.properties.{property.Name}");
            var pair = $"{Literal(Compact(property.Name))} ws \":\" ws {value}";
            (required.Contains(property.Name) ? mandatory : optional).Add(pair);
        }
        // Optional properties keep their order: chain[i] is "property i, then maybe a later one", or a later one alone.
        string? chain = null;
        for (var i = optional.Count - 1; i >= 0; i--)
        {
            chain = chain is null ? Add(optional[i]) : Add($"{optional[i]} (ws \",\" ws {chain})? | {chain}");
        }
        var body = new StringBuilder("\"{\" ws ");
        if (mandatory.Count > 0)
        {
            body.Append(string.Join(" ws \",\" ws ", mandatory));
            if (chain is not null)
            {
                body.Append($" (ws \",\" ws {chain})?");
            }
        }
        else if (chain is not null)
        {
            body.Append($"({chain})?");
        }
        body.Append(" ws \"}\"");
        return Add(body.ToString());
    }

    private string ArrayRule(JsonElement schema, string at)
    {
        var item = Get(schema, "items") is { } items ? Rule(items, at + ".items") : "value";
        var min = Count(schema, "minItems", at) ?? 0;
        var max = Count(schema, "maxItems", at);
        if (max < min)
        {
            throw new GrammarException(at, "'maxItems' is below 'minItems'.");
        }
        if (max == 0)
        {
            return Add("\"[\" ws \"]\"");
        }
        var rest = max is { } m ? $"{{{Math.Max(0, min - 1)},{m - 1}}}" : min > 1 ? $"{{{min - 1},}}" : "*";
        var list = $"{item} (ws \",\" ws {item}){rest}";
        return Add(min == 0 ? $"\"[\" ws ({list})? ws \"]\"" : $"\"[\" ws {list} ws \"]\"");
    }

    private string StringRule(JsonElement schema, string at)
    {
        var min = Count(schema, "minLength", at);
        var max = Count(schema, "maxLength", at);
        if (min is null && max is null)
        {
            return "string";
        }
        if (max < min)
        {
            throw new GrammarException(at, "'maxLength' is below 'minLength'.");
        }
        return Add($"\"\\\"\" char{{{min ?? 0},{max?.ToString(CultureInfo.InvariantCulture) ?? ""}}} \"\\\"\"");
    }

    private string Ref(string reference, string at)
    {
        if (refs.TryGetValue(reference, out var known))
        {
            return known;
        }
        string[] prefixes = ["#/$defs/", "#/definitions/"];
        var prefix = prefixes.FirstOrDefault(p => reference.StartsWith(p, StringComparison.Ordinal))
            ?? throw new GrammarException(at, $"'$ref' must point into #/$defs or #/definitions, not '{reference}'.");
        var container = Get(root, prefix[2..^1]);
        var name = reference[prefix.Length..];
        if (container is not { ValueKind: JsonValueKind.Object } defs || Get(defs, name) is not { } target)
        {
            throw new GrammarException(at, $"'$ref' points to '{reference}', which is not defined.");
        }
        // Named before it is written, so a recursive definition refers to itself.
        var rule = $"r{next++}";
        refs[reference] = rule;
        var body = Rule(target, at + ".$ref");
        rules.Append(rule).Append(" ::= ").Append(body).Append('\n');
        return rule;
    }

    private static int? Count(JsonElement schema, string keyword, string at)
    {
        if (Get(schema, keyword) is not { } value)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var count) || count < 0 || count > 100_000)
        {
            throw new GrammarException(at, $"'{keyword}' must be a whole number from 0 to 100000.");
        }
        return count;
    }

    private string Add(string body)
    {
        var rule = $"r{next++}";
        rules.Append(rule).Append(" ::= ").Append(body).Append('\n');
        return rule;
    }

    private static string Compact(JsonElement value) => value.GetRawText();

    private static string Compact(string name)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(name.Length + 8);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(name);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static JsonElement? Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : null;
}

/// <summary>A schema that cannot become a grammar: <see cref="Exception.Message"/> says why, <see cref="At"/> where.</summary>
internal sealed class GrammarException(string at, string message) : Exception(message)
{
    public string At { get; } = at;
}
