namespace Cairn.Upstream;

/// <summary>Which of an upstream's APIs a request goes to.</summary>
internal enum UpstreamApi
{
    /// <summary><c>/chat/completions</c>: every chat request, and responses translated into chat (<c>ResponsesApi: chat</c>).</summary>
    ChatCompletions,

    /// <summary><c>/responses</c>: responses relayed as they are (<c>ResponsesApi: native</c>).</summary>
    Responses,
}
