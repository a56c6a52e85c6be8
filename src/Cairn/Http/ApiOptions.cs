namespace Cairn.Http;

/// <summary>Limits of the HTTP API (section <c>Api</c>).</summary>
internal sealed record ApiOptions
{
    public const string Section = "Api";

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// The most stored bytes one list page holds (stored completions and their messages): a page ends early, with
    /// <c>has_more</c> true, where the next item would pass it; it always holds one item, however large.
    /// </summary>
    public long MaxListPageBytes { get; init; } = Storage.StoredPage.DefaultMaxBytes;

    /// <summary>
    /// Seconds a stream's client has to take what Cairn sends (one flush); a client that stops reading for longer loses
    /// its connection, and the upstream connection or local model sequence behind the stream is freed.
    /// </summary>
    public double StreamSendTimeoutSeconds { get; init; } = 30;

    public TimeSpan StreamSendTimeout => TimeSpan.FromSeconds(StreamSendTimeoutSeconds);

    public IEnumerable<string> Validate()
    {
        if (MaxRequestBodyBytes is < 1024 or > int.MaxValue)
        {
            yield return $"Api:MaxRequestBodyBytes must be between 1024 and {int.MaxValue}, not {MaxRequestBodyBytes}.";
        }
        if (MaxListPageBytes is < 1024 or > int.MaxValue)
        {
            yield return $"Api:MaxListPageBytes must be between 1024 and {int.MaxValue}, not {MaxListPageBytes}.";
        }
        if (StreamSendTimeoutSeconds is <= 0 or > 3600 || double.IsNaN(StreamSendTimeoutSeconds))
        {
            yield return $"Api:StreamSendTimeoutSeconds must be above 0 and at most 3600, not {StreamSendTimeoutSeconds}.";
        }
    }
}
