using System.Buffers;
using System.IO.Pipelines;

namespace Cairn.OpenAI;

/// <summary>The framing of a chat completion stream: <c>data: {json}\n\n</c> events, ended by <c>data: [DONE]\n\n</c>.</summary>
internal static class Sse
{
    public static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    public static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    /// <summary>Ends a stream that failed after it began: the error as an event in OpenAI's envelope, then <c>[DONE]</c>.</summary>
    public static async Task EndWithErrorAsync(PipeWriter pipe, byte[] error)
    {
        pipe.Write(DataPrefix);
        pipe.Write(error);
        pipe.Write(EventEnd);
        pipe.Write(Done);
        await pipe.FlushAsync();
    }
}
