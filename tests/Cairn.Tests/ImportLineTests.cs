using System.Text;
using Cairn.Export;

namespace Cairn.Tests;

/// <summary>What makes an import line malformed, and the reason the import gives for each.</summary>
public sealed class ImportLineTests
{
    private const string Export = """
        "cairn_export":{"version":1,"project":"default","model":"echo","messages":[{"id":"chatcmpl-a-0","role":"user","content":"hi","content_parts":null,"name":null}]}
        """;

    private static string Line(string body) => "{" + body + "," + Export + "}";

    private const string Good = """
        "object":"chat.completion","id":"chatcmpl-a","model":"echo","created":1700000000,"metadata":{"k":"v"},"choices":[]
        """;

    [Fact]
    public void AGoodLine_GivesTheStoredObjectWithoutTheExportKey_AndEverythingElse()
    {
        var line = ImportLine.Parse(Encoding.UTF8.GetBytes(Line(Good)), project: null);

        Assert.Equal("{" + Good + "}", Encoding.UTF8.GetString(line.Body));
        Assert.Equal(("chatcmpl-a", "default", "echo", 1700000000L), (line.Id, line.Project, line.Model, line.Created));
        Assert.Equal("v", line.Metadata["k"]);
        Assert.Equal("""{"id":"chatcmpl-a-0","role":"user","content":"hi","content_parts":null,"name":null}""", Encoding.UTF8.GetString(Assert.Single(line.Messages)));
    }

    [Fact]
    public void TheExportKeyCanBeAnywhere_AndAGivenProjectWinsOverTheLines()
    {
        var line = ImportLine.Parse(Encoding.UTF8.GetBytes("{" + Export + "," + Good + "}"), project: "other");

        Assert.Equal("{" + Good + "}", Encoding.UTF8.GetString(line.Body));
        Assert.Equal("other", line.Project);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "a line must be a JSON object")]
    [InlineData("{} {}", "not valid JSON")]
    [InlineData("""{"object":"chat.completion.chunk"}""", "'object' must be \"chat.completion\"")]
    [InlineData("""{"object":"chat.completion","id":7}""", "'id' must be a string")]
    [InlineData("""{"object":"chat.completion","id":"has space"}""", "'id' must be 1 to 256 characters")]
    [InlineData("""{"object":"chat.completion","id":"x","created":"today"}""", "'created' must be a whole number")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1.5}""", "'created' must be a whole number")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":{}}""", "'choices' must be an array")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"metadata":{"k":1}}""", "metadata.k")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[]}""", "no 'cairn_export' object")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"cairn_export":{"version":2}}""", "'cairn_export.version' must be 1")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"cairn_export":{"version":1,"model":"m"}}""", "'cairn_export.project' must be a string")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"cairn_export":{"version":1,"model":"m","project":"no spaces"}}""", "a project name is 1 to 64")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"cairn_export":{"version":1,"model":"m","project":"p"}}""", "'cairn_export.messages' must be an array")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"cairn_export":{"version":1,"model":"m","project":"p","messages":[{"content":"x"}]}}""", "'cairn_export.messages[0]' must be a message object")]
    [InlineData("""{"object":"chat.completion","id":"\ud800","created":1}""", "Invalid 'id'")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"metadata":{"k":"\udc00"}}""", "Invalid 'metadata.k'")]
    [InlineData("""{"object":"chat.completion","id":"x","id":"y","created":1}""", "Invalid 'id': the key appears more than once")]
    [InlineData("""{"object":"chat.completion","id":"x","created":1,"choices":[],"metadata":{"k":"\u0000"}}""", "metadata.k")]
    public void AMalformedLine_IsRejected_SayingWhy(string line, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ImportLine.Parse(Encoding.UTF8.GetBytes(line), project: null));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public void ALineThatIsNotUtf8_IsRejected_NamingWhere(byte[] bad)
    {
        var line = Encoding.UTF8.GetBytes(Line(Good.Replace("\"echo\"", "\"echo@\"", StringComparison.Ordinal)));
        var at = Array.IndexOf(line, (byte)'@');
        line = [.. line[..at], .. bad, .. line[(at + 1)..]];

        var error = Assert.Throws<FormatException>(() => ImportLine.Parse(line, project: null));

        Assert.Contains("Invalid 'model': the string is not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALineStartingWithAByteOrderMark_IsRead()
    {
        var line = ImportLine.Parse([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Line(Good))], project: null);

        Assert.Equal("{" + Good + "}", Encoding.UTF8.GetString(line.Body));
    }
}
