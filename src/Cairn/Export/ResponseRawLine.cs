using System.Buffers;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Export;

/// <summary>
/// A raw export line of a stored response: the response object byte for byte as <c>GET /v1/responses/{id}</c> returns
/// it, with <c>cairn_export</c> added at its end:
/// <c>{"version":1,"project","model","previous_response_id","request_id","context":[…],"input":[…]}</c>. The model is
/// the name the client sent (lists filter on it; the object's <c>model</c> is the one that answered);
/// <c>previous_response_id</c> is the link the chain is read by, <c>context</c> the items stored in front of the
/// response's own <c>input</c>, each item byte for byte as <c>input_items</c> lists it. Output items are the object's
/// own <c>output</c>. <see cref="ResponseImportLine"/> reads it back.
/// </summary>
internal static class ResponseRawLine
{
    /// <summary>
    /// Writes the line of <paramref name="response"/>, whose items (its own, and for an unlinked line its chain's) are
    /// <paramref name="items"/>. <paramref name="linked"/>: the line keeps its link, since the response it continues is
    /// in the same export, before it. Otherwise the line stands alone: its link is null and every item of its chain
    /// before its own input is its context, as a delete of the response it continued would leave it.
    /// </summary>
    public static void Write(ArrayBufferWriter<byte> line, ArchivedResponse response, IReadOnlyList<ArchivedItem> items, string projectName, bool linked)
    {
        RawLine.Open(line, response.Body, response.Id);
        using (var json = new Utf8JsonWriter(line, JsonWriting.Options))
        {
            json.WriteStartObject();
            json.WriteNumber("version"u8, RawLine.Version);
            json.WriteString("project"u8, projectName);
            json.WriteString("model"u8, response.Model);
            json.StringOrNull("previous_response_id"u8, linked ? response.PreviousResponseId : null);
            json.StringOrNull("request_id"u8, response.RequestId);
            json.WriteStartArray("context"u8);
            foreach (var item in items.Where(i => i.Depth > 0 || (!i.Output && !i.OwnInput)))
            {
                json.WriteRawValue(item.Item.Body, skipInputValidation: true);
            }
            json.WriteEndArray();
            json.WriteStartArray("input"u8);
            foreach (var item in items.Where(i => i.OwnInput))
            {
                json.WriteRawValue(item.Item.Body, skipInputValidation: true);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        line.Write("}\n"u8);
    }
}
