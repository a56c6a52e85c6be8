using System.Runtime.InteropServices;
using System.Text.Json;
using static Cairn.OpenAI.JsonCheck;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// A response an upstream finished through its own Responses API (answered whole, or the <c>response</c> of its
/// stream's last event), as Cairn serves it: <see cref="Body"/> is the upstream's object with Cairn's id in it, and
/// the status, output items (each as the upstream wrote it, with its id) and usage are read from that object.
/// </summary>
internal sealed record FinishedResponse(byte[] Body, string Status, IReadOnlyList<ResponseItem> Output, ResponseUsage Usage)
{
    /// <summary>The model the upstream says answered (null when it named none).</summary>
    public string? Model { get; init; }

    /// <summary>Whether the response finished with an answer (<c>completed</c> or <c>incomplete</c>), and so is stored; a failed one is not.</summary>
    public bool Answered => Status is ResponseOutcome.Completed or ResponseOutcome.Incomplete;

    /// <summary>
    /// Reads <paramref name="response"/> (whose bytes, rewritten for the client, are <paramref name="body"/>); null when
    /// it is not a response object (no <c>status</c>, or no <c>output</c> array of items). An item without an id is
    /// stored under a new one of <paramref name="responseId"/>.
    /// </summary>
    public static FinishedResponse? Read(byte[] body, JsonElement response, string responseId)
    {
        if (response.ValueKind != JsonValueKind.Object
            || Get(response, "status") is not { ValueKind: JsonValueKind.String } status
            || Get(response, "output") is not { ValueKind: JsonValueKind.Array } output)
        {
            return null;
        }
        var items = new List<ResponseItem>(output.GetArrayLength());
        foreach (var item in output.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var id = Get(item, "id") is { ValueKind: JsonValueKind.String } given ? given.GetString()! : Ids.Item("item", responseId);
            items.Add(new ResponseItem(id, JsonMarshal.GetRawUtf8Value(item).ToArray()));
        }
        var usage = Get(response, "usage") is { ValueKind: JsonValueKind.Object } counts
            ? new ResponseUsage(
                Count(counts, "input_tokens", null), Count(counts, "input_tokens_details", "cached_tokens"),
                Count(counts, "output_tokens", null), Count(counts, "output_tokens_details", "reasoning_tokens"))
            : new ResponseUsage(0, 0, 0, 0);
        return new FinishedResponse(body, status.GetString()!, items, usage)
        {
            Model = Get(response, "model") is { ValueKind: JsonValueKind.String } model ? model.GetString() : null,
        };
    }

    /// <summary>A token count of <c>usage</c> (or of one of its details objects); 0 when absent.</summary>
    private static int Count(JsonElement usage, string name, string? detail)
    {
        var value = Get(usage, name);
        if (detail is not null)
        {
            value = value is { ValueKind: JsonValueKind.Object } details ? Get(details, detail) : null;
        }
        return value is { ValueKind: JsonValueKind.Number } number && number.TryGetInt64(out var tokens) ? (int)Math.Clamp(tokens, 0, int.MaxValue) : 0;
    }
}
