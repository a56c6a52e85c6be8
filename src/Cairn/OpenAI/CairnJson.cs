using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>
/// Cairn's one source-generated JSON context: the stored completion (snake_case, nulls written as OpenAI writes
/// them) and the few small shapes the stores keep in JSON columns.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = JsonBody.StoredMaxDepth, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(IReadOnlyList<ChatCompletionMessageToolCall>))]
[JsonSerializable(typeof(ChatCompletionLogprobs))]
[JsonSerializable(typeof(ChatCompletionFunction))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IReadOnlyCollection<string>))]
internal sealed partial class CairnJson : JsonSerializerContext;
