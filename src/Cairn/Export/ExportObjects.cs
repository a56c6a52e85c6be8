namespace Cairn.Export;

/// <summary>Which kinds of stored objects an export writes.</summary>
[Flags]
internal enum ExportObjects
{
    /// <summary>Stored chat completions.</summary>
    Completions = 1,

    /// <summary>Stored responses (the Responses API).</summary>
    Responses = 2,

    /// <summary>Both: the completions first, then the responses.</summary>
    All = Completions | Responses,
}
