using System.Text;

namespace Cairn.OpenAI;

/// <summary>
/// Where a <see cref="System.Text.Json.Utf8JsonReader"/> is, as a <c>param</c> path (<c>messages[0].content</c>):
/// keys are kept as offsets into the JSON and decoded only when an error names them.
/// </summary>
internal sealed class JsonPathTracker
{
    private readonly List<Frame> frames = [];

    /// <summary>A container starts: it is a value of its parent.</summary>
    public void Push(bool isArray)
    {
        Value();
        frames.Add(new Frame(isArray, -1, -1, 0));
    }

    public void Pop() => frames.RemoveAt(frames.Count - 1);

    /// <summary>A key of the innermost object, as the offset and length of its bytes between the quotes.</summary>
    public void Name(int start, int length) => frames[^1] = frames[^1] with { NameStart = start, NameLength = length };

    /// <summary>A value starts; in an array it is the next item.</summary>
    public void Value()
    {
        if (frames.Count > 0 && frames[^1].IsArray)
        {
            frames[^1] = frames[^1] with { Index = frames[^1].Index + 1 };
        }
    }

    /// <summary>The path, with or without the innermost key or index (a bad key is named by the object holding it).</summary>
    public string ToString(ReadOnlySpan<byte> json, bool includeLast)
    {
        var text = new StringBuilder();
        var count = includeLast ? frames.Count : frames.Count - 1;
        for (var i = 0; i < count; i++)
        {
            var frame = frames[i];
            if (frame.IsArray)
            {
                text.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.NameStart >= 0)
            {
                if (text.Length > 0)
                {
                    text.Append('.');
                }
                text.Append(JsonBody.Lossy(json, frame.NameStart, frame.NameLength));
            }
        }
        return text.ToString();
    }

    private readonly record struct Frame(bool IsArray, int Index, int NameStart, int NameLength);
}
