namespace Cairn.OpenAI;

/// <summary>The framing of a chat completion stream: <c>data: {json}\n\n</c> events, ended by <c>data: [DONE]\n\n</c>.</summary>
internal static class Sse
{
    public static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    public static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;
}
