using System.Text;
using System.Text.Json;
using Cairn.Export;

namespace Cairn.Tests;

/// <summary>What a raw export line of a stored response must hold, and the reason the import gives for each line that does not.</summary>
public sealed class ResponseImportLineTests
{
    private const string Output = """
        [{"id":"fc_1","type":"function_call","status":"completed","arguments":"{}","call_id":"call_1","name":"f"},
         {"id":"msg_2","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"hi"}],"role":"assistant"}]
        """;

    private const string Input = """
        [{"id":"msg_1","type":"message","status":"completed","content":[{"type":"input_text","text":"hello"},{"type":"input_image","detail":"auto","file_id":null,"image_url":null}],"role":"user"}]
        """;

    private const string Context = """
        [{"id":"fco_0","type":"function_call_output","status":"completed","call_id":"call_0","output":"done"}]
        """;

    private static string Line(string body, string export) => "{" + body + ",\"cairn_export\":{" + export + "}}";

    private const string Body = $$"""
        "id":"resp_a","object":"response","created_at":1700000000,"status":"completed","model":"gpt-4o-mini-2024-07-18","output":{{Output}},
        "usage":{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15},
        "metadata":{"k":"v"}
        """;

    private const string Export = $$"""
        "version":1,"project":"default","model":"gpt-4o-mini","previous_response_id":"resp_0","request_id":"req_1","context":{{Context}},"input":{{Input}}
        """;

    private static ResponseImportLine Parse(string line, string? project = null)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        using var document = RawFields.Read(bytes);
        return ResponseImportLine.Parse(document.RootElement, bytes, project);
    }

    private static string Text(Cairn.Storage.StoredItem item) => item.Id + " " + Encoding.UTF8.GetString(item.Body);

    private static List<string> Items(string json) =>
        [.. JsonDocument.Parse(json).RootElement.EnumerateArray().Select(i => i.GetProperty("id").GetString() + " " + i.GetRawText())];

    [Fact]
    public void AGoodLine_GivesTheStoredObjectWithoutTheExportKey_ItsItemsByteForByte_AndItsColumns()
    {
        var line = Parse(Line(Body, Export));
        var response = line.In(7);

        // The object's own bytes; only the blanks between its top-level properties go (an export writes none).
        Assert.Equal("{" + Body.Replace(",\n\"", ",\"", StringComparison.Ordinal) + "}", Encoding.UTF8.GetString(response.Body));
        Assert.Equal(("resp_a", 7L, "default", "gpt-4o-mini", 1700000000L, "resp_0", "req_1"),
            (response.Id, line.In(7).ProjectId, line.Project, response.Model, response.CreatedAt, response.PreviousResponseId, response.RequestId));
        Assert.Equal(("completed", 11, 4, "v"), (response.Status, response.InputTokens, response.OutputTokens, response.Metadata["k"]));
        Assert.Equal(Items(Input), response.Input.Select(Text));
        Assert.Equal(Items(Output), response.Output.Select(Text));
        Assert.Equal(Items(Context), response.Context.Select(Text));
        Assert.Null(response.LatencyMs);
    }

    [Fact]
    public void AGivenProjectWinsOverTheLines_AndALineStartingItsChainHasNoLink()
    {
        var line = Parse(Line(Body, Export.Replace("\"resp_0\"", "null", StringComparison.Ordinal)), project: "other");

        Assert.Equal(("other", (string?)null), (line.Project, line.PreviousResponseId));
    }

    [Theory]
    [InlineData("\"created_at\":1700000000", "\"created_at\":\"now\"", "'created_at' must be a whole number")]
    [InlineData("\"status\":\"completed\"", "\"status\":\"queued\"", "'status' must be one of \"completed\", \"incomplete\", \"failed\"")]
    [InlineData("\"id\":\"resp_a\"", "\"id\":\"resp a\"", "'id' must be 1 to 256 characters")]
    [InlineData("\"output\":[", "\"output\":5,\"o\":[", "'output' must be an array")]
    [InlineData("\"input_tokens\":11", "\"input_tokens\":-1", "'usage.input_tokens' must be a whole number of tokens")]
    [InlineData("\"metadata\":{\"k\":\"v\"}", "\"metadata\":{\"k\":1}", "metadata.k")]
    [InlineData("\"version\":1", "\"version\":2", "'cairn_export.version' must be 1")]
    [InlineData("\"project\":\"default\"", "\"project\":\"no spaces\"", "a project name is 1 to 64")]
    [InlineData("\"previous_response_id\":\"resp_0\"", "\"previous_response_id\":\"\"", "'cairn_export.previous_response_id' must be a non-empty string")]
    [InlineData("\"request_id\":\"req_1\"", "\"request_id\":5", "'cairn_export.request_id' must be a string or null")]
    [InlineData("\"context\":[", "\"context\":5,\"c\":[", "'cairn_export.context' must be an array")]
    [InlineData("\"input\":[", "\"inputs\":[", "'cairn_export.input' must be an array")]
    [InlineData("{\"id\":\"msg_1\",", "{\"id\":7,", "'cairn_export.input[0].id' must be a non-empty string")]
    [InlineData("\"id\":\"msg_1\",\"type\"", "\"id\":\"msg_1\",\"kind\"", "'cairn_export.input[0]' must be an item object with an 'id' and a 'type'")]
    [InlineData("\"type\":\"input_text\",\"text\":\"hello\"", "\"type\":\"input_text\",\"text\":5", "'cairn_export.input[0].content[0].text' must be a string")]
    [InlineData("\"image_url\":null", "\"image_url\":{}", "'cairn_export.input[0].content[1].image_url' must be a string or null")]
    [InlineData("\"role\":\"user\"", "\"role\":null", "'cairn_export.input[0].role' must be a string")]
    [InlineData("\"call_id\":\"call_1\"", "\"call_id\":1", "'output[0].call_id' must be a string")]
    [InlineData("\"arguments\":\"{}\"", "\"arguments\":{}", "'output[0].arguments' must be a string")]
    [InlineData("\"output\":\"done\"", "\"output\":7", "'cairn_export.context[0].output' must be a string or an array of parts")]
    [InlineData("\"annotations\":[],", "\"annotations\":[],\"type\":\"x\",", "the key appears more than once")]
    [InlineData(",\"cairn_export\":{", ",\"cairn_exports\":{", "no 'cairn_export' object: import reads lines of 'cairn export --format raw', which carry the input items there")]
    public void AMalformedLine_IsRejected_SayingWhy(string part, string replacement, string reason)
    {
        var line = Line(Body, Export);
        Assert.Contains(part, line, StringComparison.Ordinal);

        var problem = Assert.Throws<FormatException>(() => Parse(line.Replace(part, replacement, StringComparison.Ordinal))).Message;

        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }
}
