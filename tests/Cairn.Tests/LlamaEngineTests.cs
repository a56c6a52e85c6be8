using System.Text.Json;
using Cairn.Llama;

namespace Cairn.Tests;

/// <summary>The engine's pure parts: stop-sequence hold-back and the JSON-Schema-to-grammar converter's refusals.</summary>
public sealed class LlamaEngineTests
{
    private static string Run(StopFilter filter, params string[] tokens)
    {
        var released = new System.Text.StringBuilder();
        foreach (var token in tokens)
        {
            foreach (var (text, _) in filter.Push(token, null))
            {
                released.Append(text);
            }
            if (filter.Stopped || filter.Triggered)
            {
                return released.ToString();
            }
        }
        foreach (var (text, _) in filter.Flush())
        {
            released.Append(text);
        }
        return released.ToString();
    }

    [Theory]
    [InlineData(new[] { "Hel", "lo", ",", " wor", "ld" }, new[] { "o, w" }, "Hell")]
    [InlineData(new[] { "ab", "cd", "ef" }, new[] { "zz", "cde" }, "ab")]
    [InlineData(new[] { "ab", "cd", "ef" }, new[] { "f" }, "abcde")]
    [InlineData(new[] { "cab", "ab" }, new[] { "aba" }, "c")]
    [InlineData(new[] { "a", "b" }, new[] { "bc" }, "ab")] // a prefix of a stop at the end is released at the end
    [InlineData(new[] { "x" }, new[] { "x" }, "")]
    public void StopFilter_ReleasesExactlyTheTextBeforeTheFirstStop(string[] tokens, string[] stops, string expected) =>
        Assert.Equal(expected, Run(new StopFilter(stops, null), tokens));

    [Fact]
    public void StopFilter_HoldsBackOnlyWhatCouldStartAStop()
    {
        var filter = new StopFilter(["END"], null);
        Assert.Equal("abc", string.Concat(filter.Push("abc", null).Select(r => r.Text)));
        // Whole tokens are held: "xE" could end in the start of "END".
        Assert.Equal("", string.Concat(filter.Push("xE", null).Select(r => r.Text)));
        Assert.Equal("xEy", string.Concat(filter.Push("y", null).Select(r => r.Text)));
    }

    [Fact]
    public void StopFilter_Trigger_EndsTheContent_AndKeepsTheRest()
    {
        var filter = new StopFilter([], "<tool_call>");
        Assert.Equal("OK ", Run(filter, "OK ", "<tool", "_call>", "{"));
        Assert.True(filter.Triggered);
        Assert.Equal("<tool_call>", filter.TakeRest());
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"a+"}""", "pattern")]
    [InlineData("""{"type":"string","format":"email"}""", "format")]
    [InlineData("""{"type":"integer","minimum":1}""", "minimum")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"strange"}}}""", "strange")]
    [InlineData("""{"$ref":"#/$defs/none"}""", "not defined")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "$defs")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "maxItems")]
    [InlineData("""{"allOf":[{"type":"string"},{"type":"string"}]}""", "allOf")]
    public void JsonSchemaGrammar_RefusesWhatItCannotEnforce(string schema, string mentioned)
    {
        using var document = JsonDocument.Parse(schema);
        var error = Assert.Throws<GrammarException>(() => JsonSchemaGrammar.FromSchema(document.RootElement));
        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolCallText_ReadsEveryCompleteCall_WithItsOwnId()
    {
        var calls = Cairn.Backends.Llama.ToolCallText.Parse(
            "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"cut");
        Assert.Equal(["a", "b"], calls.Select(c => c.Name));
        Assert.Equal("{\"x\":1}", calls[0].Arguments);
        Assert.NotEqual(calls[0].Id, calls[1].Id);
        Assert.All(calls, c => Assert.Matches("^call_[0-9A-Za-z]{24}$", c.Id));
    }

    [Fact]
    public void JsonSchemaGrammar_Literals_EscapeWhatGbnfNeedsEscaped() =>
        Assert.Equal("\"a\\\"b\\\\c\\n\"", JsonSchemaGrammar.Literal("a\"b\\c\n"));
}
