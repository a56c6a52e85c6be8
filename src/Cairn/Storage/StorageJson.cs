using System.Text.Json.Serialization;

namespace Cairn.Storage;

/// <summary>The few JSON shapes the stores pass to their databases: id lists of archive queries, a key's model list.</summary>
[JsonSerializable(typeof(IReadOnlyCollection<string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class StorageJson : JsonSerializerContext;
