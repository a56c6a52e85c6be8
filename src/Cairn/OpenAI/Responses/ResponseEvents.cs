using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Cairn.OpenAI.Responses;

/// <summary>
/// A response streamed as the Responses API's events (<c>event: type</c> / <c>data: json</c>, <c>sequence_number</c>
/// from 0, no <c>[DONE]</c>), in the order openai-node's <c>responses.stream()</c> checks. Writes only; the caller flushes
/// (and disposes, which lets go of the one JSON writer every event reuses). Numbering starts at
/// <paramref name="firstSequence"/>: 0, or where a relayed stream left off when Cairn ends it.
/// </summary>
/// <remarks>
/// Only the message's text streams as it comes; a refusal and function calls are written whole by <see cref="Finish"/>
/// (each still as its added, delta, done events), since only the finished completion says what they are. The message,
/// when there is one, is output item 0, as in the final response.
/// </remarks>
internal sealed class ResponseEvents(IBufferWriter<byte> output, ResponseObject response, string messageId, int firstSequence = 0) : IDisposable
{
    /// <summary>The live API pads each delta with <c>obfuscation</c> to a multiple of this many characters.</summary>
    private const int ObfuscationBlock = 16;

    private readonly Utf8JsonWriter json = new(output, JsonWriting.Options);
    private int sequence = firstSequence;
    private bool messageOpen;

    /// <summary><c>response.created</c> and <c>response.in_progress</c>.</summary>
    public void Start()
    {
        WriteResponse("response.created");
        WriteResponse("response.in_progress");
    }

    /// <summary>A piece of the answer's text; the first opens the message item (<paramref name="messageId"/>) and its part.</summary>
    public void Text(string delta)
    {
        if (delta.Length == 0)
        {
            return;
        }
        if (!messageOpen)
        {
            messageOpen = true;
            AddMessage(0, messageId);
            AddPart(messageId, 0, 0, "output_text");
        }
        Delta("response.output_text.delta", messageId, 0, 0, delta, outputText: true);
    }

    /// <summary>
    /// After <see cref="ResponseObject.Complete"/>: closes the message, writes each function call (added, arguments,
    /// done), then <c>response.completed</c> or <c>response.incomplete</c>.
    /// </summary>
    public void Finish()
    {
        var outcome = response.Outcome ?? throw new InvalidOperationException($"Response {response.Id} is not complete.");
        var items = outcome.Output;
        if (messageOpen && (items.Count == 0 || items[0].Id != messageId))
        {
            throw new InvalidOperationException($"Response {response.Id} streamed message {messageId}, which its output does not begin with.");
        }
        for (var index = 0; index < items.Count; index++)
        {
            using var item = JsonDocument.Parse(items[index].Json);
            var root = item.RootElement;
            var type = root.GetProperty("type"u8);
            if (type.ValueEquals("message"u8))
            {
                FinishMessage(index, root);
            }
            else if (type.ValueEquals("function_call"u8))
            {
                FinishFunctionCall(index, root);
            }
            else
            {
                ItemEvent("response.output_item.added", index, root);
            }
            ItemEvent("response.output_item.done", index, root);
        }
        WriteResponse(outcome.Status == ResponseOutcome.Incomplete ? "response.incomplete" : "response.completed");
    }

    /// <summary>After <see cref="ResponseObject.Fail"/>: <c>response.failed</c>.</summary>
    public void Failed() => WriteResponse("response.failed");

    /// <summary>
    /// The message's parts: the streamed text part closed with the final text, any other part (a refusal, a text not
    /// streamed) added, given whole as one delta and closed.
    /// </summary>
    private void FinishMessage(int index, JsonElement item)
    {
        var id = item.GetProperty("id"u8).GetString()!;
        var opened = messageOpen && index == 0;
        if (!opened)
        {
            AddMessage(index, id);
        }
        var partIndex = 0;
        foreach (var part in item.GetProperty("content"u8).EnumerateArray())
        {
            var refusal = part.GetProperty("type"u8).ValueEquals("refusal"u8);
            var whole = part.GetProperty(refusal ? "refusal"u8 : "text"u8).GetString()!;
            if (!(opened && partIndex == 0 && !refusal))
            {
                AddPart(id, index, partIndex, refusal ? "refusal" : "output_text");
                Delta(refusal ? "response.refusal.delta" : "response.output_text.delta", id, index, partIndex, whole, outputText: !refusal);
            }
            Begin(refusal ? "response.refusal.done" : "response.output_text.done");
            PartHeader(id, index, partIndex);
            if (refusal)
            {
                json.WriteString("refusal"u8, whole);
            }
            else
            {
                json.WriteString("text"u8, whole);
                json.WriteStartArray("logprobs"u8);
                json.WriteEndArray();
            }
            End();
            Begin("response.content_part.done");
            PartHeader(id, index, partIndex);
            json.WritePropertyName("part"u8);
            part.WriteTo(json);
            End();
            partIndex++;
        }
    }

    /// <summary>The call announced with empty arguments, its arguments as one delta, then done with its name.</summary>
    private void FinishFunctionCall(int index, JsonElement item)
    {
        var id = item.GetProperty("id"u8).GetString()!;
        var arguments = item.GetProperty("arguments"u8).GetString()!;
        var name = item.GetProperty("name"u8).GetString()!;
        Begin("response.output_item.added");
        json.WriteNumber("output_index"u8, index);
        json.WritePropertyName("item"u8);
        OutputItemWriter.WriteFunctionCall(json, id, ResponseObject.InProgress, "", item.GetProperty("call_id"u8).GetString()!, name);
        End();
        Begin("response.function_call_arguments.delta");
        json.WriteString("item_id"u8, id);
        json.WriteNumber("output_index"u8, index);
        json.WriteString("delta"u8, arguments);
        Obfuscation(arguments);
        End();
        Begin("response.function_call_arguments.done");
        json.WriteString("item_id"u8, id);
        json.WriteNumber("output_index"u8, index);
        json.WriteString("arguments"u8, arguments);
        json.WriteString("name"u8, name);
        End();
    }

    private void AddMessage(int index, string id)
    {
        Begin("response.output_item.added");
        json.WriteNumber("output_index"u8, index);
        json.WritePropertyName("item"u8);
        OutputItemWriter.WriteMessage(json, id, ResponseObject.InProgress, text: null, refusal: null);
        End();
    }

    private void AddPart(string id, int index, int partIndex, string type)
    {
        Begin("response.content_part.added");
        PartHeader(id, index, partIndex);
        json.WritePropertyName("part"u8);
        if (type == "refusal")
        {
            OutputItemWriter.WriteRefusal(json, "");
        }
        else
        {
            OutputItemWriter.WriteOutputText(json, "");
        }
        End();
    }

    private void Delta(string type, string id, int index, int partIndex, string delta, bool outputText)
    {
        Begin(type);
        PartHeader(id, index, partIndex);
        json.WriteString("delta"u8, delta);
        if (outputText)
        {
            json.WriteStartArray("logprobs"u8);
            json.WriteEndArray();
            Obfuscation(delta);
        }
        End();
    }

    private void PartHeader(string id, int index, int partIndex)
    {
        json.WriteString("item_id"u8, id);
        json.WriteNumber("output_index"u8, index);
        json.WriteNumber("content_index"u8, partIndex);
    }

    /// <summary>
    /// Random characters that pad the delta's length to a multiple of 16, as the live API's do, so a delta's size on
    /// the wire does not give away its token; left out when the request turned it off.
    /// </summary>
    private void Obfuscation(string delta)
    {
        if (!response.Request.IncludeObfuscation)
        {
            return;
        }
        Span<char> padding = stackalloc char[ObfuscationBlock];
        padding = padding[..((ObfuscationBlock - delta.Length % ObfuscationBlock) % ObfuscationBlock)];
        RandomPool.FillFrom(Ids.Base62, padding);
        json.WriteString("obfuscation"u8, padding);
    }

    private void ItemEvent(string type, int index, JsonElement item)
    {
        Begin(type);
        json.WriteNumber("output_index"u8, index);
        json.WritePropertyName("item"u8);
        item.WriteTo(json);
        End();
    }

    private void WriteResponse(string type)
    {
        Begin(type);
        json.WritePropertyName("response"u8);
        response.Write(json);
        End();
    }

    /// <summary>Opens an event: its <c>event:</c> line and a payload beginning <c>{type, sequence_number</c>.</summary>
    private void Begin(string type)
    {
        Write("event: "u8);
        Encoding.UTF8.GetBytes(type, output);
        Write("\ndata: "u8);
        json.Reset(output);
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        json.WriteNumber("sequence_number"u8, sequence++);
    }

    private void End()
    {
        json.WriteEndObject();
        json.Flush();
        Write(Sse.EventEnd);
    }

    private void Write(ReadOnlySpan<byte> bytes) => output.Write(bytes);

    public void Dispose() => json.Dispose();
}
