using System.Text.Json.Serialization;

namespace Cairn.Dashboard.Pages;

/// <summary>The dashboard's source-generated JSON types.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class DashboardJson : JsonSerializerContext;
