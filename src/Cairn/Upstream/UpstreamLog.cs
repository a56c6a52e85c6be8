namespace Cairn.Upstream;

/// <summary>What the relay logs about what upstreams sent (never their text).</summary>
internal static partial class UpstreamLog
{
    public const string InvalidText = "text that is not valid Unicode (bytes that are not UTF-8, or a lone surrogate)";

    public const string EventTooLarge = "a stream event larger than its MaxEventBytes";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} sent {What}.")]
    public static partial void Malformed(ILogger logger, string deployment, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} ended its stream with an error event.")]
    public static partial void StreamError(ILogger logger, string deployment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment} sent nothing for {Seconds} s in a stream.")]
    public static partial void StreamTimeout(ILogger logger, string deployment, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Deployment}'s stream broke off before it finished.")]
    public static partial void StreamBroken(ILogger logger, string deployment);
}
