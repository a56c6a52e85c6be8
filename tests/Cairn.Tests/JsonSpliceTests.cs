using System.Buffers;
using System.Text;
using System.Text.Json;
using Cairn.Upstream;

namespace Cairn.Tests;

/// <summary>The byte-level rewrite of relayed upstream objects: only the top-level properties Cairn sets change.</summary>
public sealed class JsonSpliceTests
{
    private const string Id = "chatcmpl-CairnCairnCairnCairnCairnCairn1";

    [Theory]
    [InlineData("""{"id":"up-1","object":"chat.completion.chunk","created":17,"choices":[]}""",
        """{"id":"chatcmpl-CairnCairnCairnCairnCairnCairn1","object":"chat.completion.chunk","created":42,"choices":[]}""")]
    [InlineData("""{ "created" : 17 , "x_vendor" : {"id":"inner","created":1}, "id" : "up" }""",
        """{ "created" : 42 , "x_vendor" : {"id":"inner","created":1}, "id" : "chatcmpl-CairnCairnCairnCairnCairnCairn1" }""")]
    [InlineData("""{"object":"x","choices":[{"index":0,"delta":{"content":"caf\u00e9 \"q\" \n"}}]}""",
        """{"object":"x","choices":[{"index":0,"delta":{"content":"caf\u00e9 \"q\" \n"}}]}""")]
    public void Rewrites_only_the_top_level_id_and_created(string source, string expected) =>
        Assert.Equal(expected, Rewrite(source, dropUsage: false));

    [Theory]
    [InlineData("""{"id":"a","usage":null,"choices":[]}""", """{"id":"chatcmpl-CairnCairnCairnCairnCairnCairn1","choices":[]}""")]
    [InlineData("""{"usage":{"total_tokens":3},"id":"a"}""", """{"id":"chatcmpl-CairnCairnCairnCairnCairnCairn1"}""")]
    [InlineData("""{ "usage" : null , "object":"x"}""", """{  "object":"x"}""")]
    [InlineData("""{"object":"x","usage":null}""", """{"object":"x"}""")]
    [InlineData("""{"usage":null}""", """{}""")]
    [InlineData("""{"object":"x","choices":[{"usage":1}],"usage":{"a":[1,2]},"created":5}""", """{"object":"x","choices":[{"usage":1}],"created":42}""")]
    public void Drops_the_top_level_usage_when_asked(string source, string expected)
    {
        var rewritten = Rewrite(source, dropUsage: true);
        Assert.Equal(expected, rewritten);
        using var _ = JsonDocument.Parse(rewritten);
    }

    [Fact]
    public void Keeps_usage_when_not_asked_to_drop_it() =>
        Assert.Equal("""{"usage":null,"created":42}""", Rewrite("""{"usage":null,"created":9}""", dropUsage: false));

    private const string Patch = """{"id":"resp_cairn","store":true,"metadata":{"k":"v"}}""";

    [Theory]
    [InlineData("""{"id":"resp_up","object":"response","store":false,"x_vendor":{"id":"inner"},"metadata":{}}""",
        """{"id":"resp_cairn","object":"response","store":true,"x_vendor":{"id":"inner"},"metadata":{"k":"v"}}""")]
    [InlineData("""{ "\u0069d" : "resp_up" , "store" : false }""", """{ "\u0069d" : "resp_cairn" , "store" : true ,"metadata":{"k":"v"}}""")]
    [InlineData("""{"object":"response"}""", """{"object":"response","id":"resp_cairn","store":true,"metadata":{"k":"v"}}""")]
    [InlineData("""{}""", """{"id":"resp_cairn","store":true,"metadata":{"k":"v"}}""")]
    public void Patches_top_level_properties_in_place_and_adds_the_missing_ones_at_the_end(string source, string expected)
    {
        using var patch = JsonDocument.Parse(Patch);
        var output = new ArrayBufferWriter<byte>();

        JsonSplice.WritePatched(output, Encoding.UTF8.GetBytes(source), patch.RootElement);

        Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Theory]
    [InlineData("""{"type":"response.created","response":{"id":"r"},"sequence_number":0}""", "{\"id\":\"r\"}")]
    [InlineData("""{"item":{"response":{}},"response":"text"}""", null)]
    [InlineData("""{"type":"response.output_text.delta","delta":"x"}""", null)]
    public void Finds_a_top_level_object_by_name(string source, string? expected)
    {
        var bytes = Encoding.UTF8.GetBytes(source);

        var found = JsonSplice.TryFindObject(bytes, "response"u8, out var range);

        Assert.Equal(expected, found ? Encoding.UTF8.GetString(bytes.AsSpan()[range]) : null);
    }

    private static string Rewrite(string source, bool dropUsage)
    {
        var output = new ArrayBufferWriter<byte>();
        JsonSplice.WriteRewritten(output, Encoding.UTF8.GetBytes(source), Id, 42, dropUsage);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
