namespace Cairn.Export;

/// <summary>What one line of an export holds.</summary>
internal enum ExportFormat
{
    /// <summary>
    /// OpenAI's chat fine-tuning line, <c>{"messages":[…],"tools":[…]}</c>: a completion's input and answer, or a
    /// whole chain of responses ending in its last answer.
    /// </summary>
    FineTune,

    /// <summary>The stored object as GET returns it, plus a <c>cairn_export</c> key holding what import needs.</summary>
    Raw,
}
