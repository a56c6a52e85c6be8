namespace Cairn.Export;

/// <summary>What one line of an export holds.</summary>
internal enum ExportFormat
{
    /// <summary>OpenAI's chat fine-tuning line: <c>{"messages":[…input…, the answer],"tools":[…]}</c>.</summary>
    FineTune,

    /// <summary>The stored object as GET returns it, plus a <c>cairn_export</c> key holding what import needs.</summary>
    Raw,
}
