namespace Cairn.Dashboard.Pages;

/// <summary>
/// What one page shows of a stored completion's texts: each text (message, part, argument, JSON) up to
/// <see cref="PerText"/> characters and the page up to <see cref="PerPage"/> in all, so a page stays small whatever
/// one completion weighs. The page says when it cut anything and links the full JSON.
/// </summary>
internal sealed class ShownText
{
    public const int PerText = 20_000;

    public const int PerPage = 400_000;

    private long left = PerPage;

    /// <summary>Whether any text of the page was cut.</summary>
    public bool Cut { get; private set; }

    /// <summary>The text, or as much of it as the page still shows, followed by how much was left out.</summary>
    public string Clip(string? text)
    {
        if (text is null)
        {
            return "";
        }
        var room = (int)Math.Min(PerText, Math.Max(0, left));
        if (text.Length <= room)
        {
            left -= text.Length;
            return text;
        }
        Cut = true;
        // Never between the halves of a surrogate pair.
        if (room > 0 && char.IsHighSurrogate(text[room - 1]))
        {
            room--;
        }
        left -= room;
        return string.Concat(text.AsSpan(0, room), $" … [{Format.Number(text.Length - room)} more characters not shown]");
    }

    /// <summary>Whether a whole value (an inline image or audio) of this many characters fits what the page still shows.</summary>
    public bool Fits(int length)
    {
        if (length <= Math.Min(PerText * 50L, left))
        {
            left -= length;
            return true;
        }
        Cut = true;
        return false;
    }
}
