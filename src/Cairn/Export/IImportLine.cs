namespace Cairn.Export;

/// <summary>A line of a raw export, read back: a stored completion's or a stored response's.</summary>
internal interface IImportLine
{
    string Id { get; }

    /// <summary>The project it goes into (the import's, or the line's own).</summary>
    string Project { get; }
}
