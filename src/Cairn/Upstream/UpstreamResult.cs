namespace Cairn.Upstream;

/// <summary>
/// What became of sending a request (either API) to a model's deployments: a closed set, matched by its cases. The
/// deployment that <see cref="Answered"/> hands over its successful response (headers read; a whole answer's body
/// read too); a request that <see cref="Failed"/> carries the error the client gets.
/// </summary>
internal abstract record UpstreamResult
{
    private UpstreamResult()
    {
    }

    public sealed record Answered(UpstreamDeployment Deployment, string UpstreamModel, HttpResponseMessage Response) : UpstreamResult;

    public sealed record Failed(UpstreamError Error, UpstreamFailure Answer) : UpstreamResult;
}

/// <summary>Why an upstream request failed (as YARP's forwarder names its errors).</summary>
internal enum UpstreamError
{
    /// <summary>A deployment refused the request itself (bad input, unknown model, wrong key): its error is relayed.</summary>
    Refused,

    /// <summary>Every deployment failed with a transient status; the last one's error is relayed.</summary>
    Exhausted,

    /// <summary>The last deployment tried did not answer in time.</summary>
    Timeout,

    /// <summary>The last deployment tried could not be reached.</summary>
    Unreachable,

    /// <summary>A whole answer was larger than its deployment's <c>MaxAnswerBytes</c>.</summary>
    TooLarge,

    /// <summary>No deployment was there to try.</summary>
    NoDeployment,
}
