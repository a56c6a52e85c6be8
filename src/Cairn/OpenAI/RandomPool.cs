using System.Security.Cryptography;

namespace Cairn.OpenAI;

/// <summary>
/// Cryptographically random bytes handed out from a per-thread buffer refilled 4 KiB at a time. Every response gets
/// a random request id, and one call into the system's random generator per id cost ~3% of a GET's CPU.
/// </summary>
internal static class RandomPool
{
    private const int Size = 4096;

    [ThreadStatic]
    private static byte[]? buffer;

    [ThreadStatic]
    private static int used;

    public static void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (buffer is null || used == Size)
            {
                buffer ??= new byte[Size];
                RandomNumberGenerator.Fill(buffer);
                used = 0;
            }
            var take = Math.Min(destination.Length, Size - used);
            var source = buffer.AsSpan(used, take);
            source.CopyTo(destination);
            // Bytes handed out are wiped, so a buffer seen later (a heap dump) does not tell which ids were made.
            source.Clear();
            used += take;
            destination = destination[take..];
        }
    }

    /// <summary>Fills <paramref name="destination"/> with characters drawn uniformly from <paramref name="alphabet"/> (at most 64 of them).</summary>
    public static void FillFrom(ReadOnlySpan<char> alphabet, Span<char> destination)
    {
        // Six random bits per draw; draws past the alphabet's length are thrown away, so every character is equally likely.
        Span<byte> bits = stackalloc byte[64];
        var at = bits.Length;
        for (var i = 0; i < destination.Length;)
        {
            if (at == bits.Length)
            {
                Fill(bits);
                at = 0;
            }
            var draw = bits[at++] & 63;
            if (draw < alphabet.Length)
            {
                destination[i++] = alphabet[draw];
            }
        }
    }
}
