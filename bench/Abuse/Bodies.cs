using System.Text;

namespace Abuse;

/// <summary>Request bodies. Prompts are ASCII without escapes, so a body is plain concatenation of a few parts.</summary>
internal static class Bodies
{
    public const int KiB = 1024;
    public const int MiB = 1024 * 1024;

    // Ordinary words: o200k counts text with spaces in linear time, so only the cases about token counting use runs.
    private const string Vocabulary = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ";

    /// <summary>A run of one letter without spaces (the token counter's worst case).</summary>
    public static string Run(int bytes) => new('a', bytes);

    /// <summary>Words and spaces, exactly <paramref name="bytes"/> long.</summary>
    public static string Words(int bytes)
    {
        var text = new StringBuilder(bytes + Vocabulary.Length);
        while (text.Length < bytes)
        {
            text.Append(Vocabulary);
        }
        text.Length = bytes;
        return text.ToString();
    }

    /// <summary>A create with one user message.</summary>
    public static byte[] Create(string model, string content, int n = 1, bool stream = false, bool store = false) =>
        Encoding.UTF8.GetBytes(
            $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"{content}\"}}]" +
            (n == 1 ? "" : $",\"n\":{n}") + (stream ? ",\"stream\":true" : "") + (store ? ",\"store\":true" : "") + "}");

    /// <summary>A create for echo whose tool's parameters schema nests objects <paramref name="depth"/> levels.</summary>
    public static byte[] DeepTool(int depth, bool store)
    {
        var schema = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            schema.Append("{\"a\":");
        }
        schema.Append('1').Append('}', depth);
        return Encoding.UTF8.GetBytes(
            "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + (store ? "\"store\":true," : "") +
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":" + schema + "}}]}");
    }

    /// <summary>A body that is only arrays nested <paramref name="depth"/> levels.</summary>
    public static byte[] DeepArrays(int depth) => Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', depth));

    /// <summary>A create whose message content holds the byte 0xFF (not UTF-8).</summary>
    public static byte[] InvalidUtf8()
    {
        var before = Encoding.ASCII.GetBytes("{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"bad ");
        var after = Encoding.ASCII.GetBytes(" byte\"}]}");
        return [.. before, 0xFF, .. after];
    }

    /// <summary>A create whose message content is a lone high surrogate escape.</summary>
    public static byte[] LoneSurrogate() =>
        Encoding.ASCII.GetBytes("{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}]}");
}
