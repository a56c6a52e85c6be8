using System.Text.Json.Serialization;

namespace Cairn.Storage;

/// <summary>The few JSON shapes archive queries pass to the database.</summary>
[JsonSerializable(typeof(IReadOnlyCollection<string>))]
internal sealed partial class ArchiveJson : JsonSerializerContext;
