namespace Cairn.Upstream;

/// <summary>
/// What one request sends a model's deployments: to which of their APIs, for the model name the client asked for,
/// whether as a stream, and the body for each deployment tried (given the model name that deployment takes).
/// </summary>
internal sealed record UpstreamCall(UpstreamApi Api, string Model, bool Stream, Func<UpstreamDeployment, string, byte[]> Body);
