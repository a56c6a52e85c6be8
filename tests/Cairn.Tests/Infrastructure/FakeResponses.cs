using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// <see cref="FakeUpstream"/>'s Responses API (<c>…/responses</c>), stateless as an upstream sent <c>store:false</c> is:
/// response objects and events in the live shapes of the openai-dotnet recordings (key order, event order, sequence
/// numbers), each item with a fresh id, the request's echoes as it received them, and a vendor field (<c>x_vendor</c>)
/// on the response and on text deltas. By model name:
/// <list type="bullet">
/// <item><c>answer…</c> (and any other): one message, "Hello from upstream" (streamed as "Hello", " from upstream").</item>
/// <item><c>tools…</c>: one function call, <c>get_weather</c> with <c>{"city":"Paris"}</c>.</item>
/// <item><c>reasoning…</c>: a reasoning item (with <c>encrypted_content</c> when <c>include</c> asks for it), then the message.</item>
/// <item><c>error-event…</c>: streamed, the message's first delta and then an <c>error</c> event, and the stream ends.</item>
/// <item><c>failed…</c>: the response fails (<c>response.failed</c>, or a whole response with <c>status:"failed"</c>).</item>
/// <item><c>reset…</c>: streamed, the first events and then the connection drops.</item>
/// <item><c>notresponse…</c>: a whole answer that is JSON but no response object.</item>
/// </list>
/// </summary>
internal static class FakeResponses
{
    public const string Text = "Hello from upstream";

    /// <summary>Text as the live API writes it: quotes as <c>\"</c>, non-ASCII as itself.</summary>
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task AnswerAsync(HttpContext context, JsonObject request, string model, bool stream)
    {
        var response = context.Response;
        if (model.StartsWith("notresponse", StringComparison.Ordinal))
        {
            response.ContentType = "application/json";
            await response.WriteAsync("""{"object":"list","data":[]}""");
            return;
        }
        var failed = model.StartsWith("failed", StringComparison.Ordinal);
        var output = failed ? [] : Output(request, model);
        var id = Id("resp");
        if (!stream)
        {
            response.ContentType = "application/json";
            await response.WriteAsync(Response(id, request, failed ? "failed" : "completed", output).ToJsonString(Json));
            return;
        }

        response.ContentType = "text/event-stream; charset=utf-8";
        var events = new Events(response);
        await events.SendAsync("response.created", new() { ["response"] = Response(id, request, "in_progress", []) });
        await events.SendAsync("response.in_progress", new() { ["response"] = Response(id, request, "in_progress", []) });
        if (failed)
        {
            await events.SendAsync("response.failed", new() { ["response"] = Response(id, request, "failed", []) });
            return;
        }
        for (var index = 0; index < output.Count; index++)
        {
            var item = output[index]!.AsObject();
            var itemId = item["id"]!.GetValue<string>();
            var type = item["type"]!.GetValue<string>();
            var added = (JsonObject)item.DeepClone();
            if (type != "reasoning")
            {
                added["status"] = "in_progress";
            }
            if (type == "message")
            {
                added["content"] = new JsonArray();
            }
            if (type == "function_call")
            {
                added["arguments"] = "";
            }
            if (type == "reasoning")
            {
                added["summary"] = new JsonArray();
            }
            await events.SendAsync("response.output_item.added", new() { ["output_index"] = index, ["item"] = added });
            if (model.StartsWith("reset", StringComparison.Ordinal))
            {
                await response.Body.FlushAsync();
                // Give the events time to be read: a reset can discard data the peer has not read yet.
                await Task.Delay(300);
                context.Abort();
                return;
            }
            if (type == "message")
            {
                var part = new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = "" };
                await events.SendAsync("response.content_part.added", Part(itemId, index, part));
                foreach (var delta in new[] { "Hello", " from upstream" })
                {
                    var payload = Part(itemId, index, null);
                    payload["delta"] = delta;
                    payload["logprobs"] = new JsonArray();
                    payload["obfuscation"] = "fnaZDlQxOXx";
                    payload["x_vendor"] = new JsonObject { ["latency_ms"] = 12 };
                    await events.SendAsync("response.output_text.delta", payload);
                    if (model.StartsWith("error-event", StringComparison.Ordinal))
                    {
                        await events.SendAsync("error", new() { ["code"] = "server_error", ["message"] = "The model crashed.", ["param"] = null });
                        return;
                    }
                }
                var done = Part(itemId, index, null);
                done["text"] = Text;
                done["logprobs"] = new JsonArray();
                await events.SendAsync("response.output_text.done", done);
                await events.SendAsync("response.content_part.done", Part(itemId, index, item["content"]![0]!.DeepClone()));
            }
            if (type == "function_call")
            {
                var arguments = item["arguments"]!.GetValue<string>();
                await events.SendAsync("response.function_call_arguments.delta",
                    new() { ["item_id"] = itemId, ["output_index"] = index, ["delta"] = arguments, ["obfuscation"] = "glOt23pN" });
                await events.SendAsync("response.function_call_arguments.done", new() { ["item_id"] = itemId, ["output_index"] = index, ["arguments"] = arguments });
            }
            await events.SendAsync("response.output_item.done", new() { ["output_index"] = index, ["item"] = item.DeepClone() });
        }
        await events.SendAsync("response.completed", new() { ["response"] = Response(id, request, "completed", output) });
    }

    private static JsonObject Part(string itemId, int index, JsonNode? part)
    {
        var payload = new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["content_index"] = 0 };
        if (part is not null)
        {
            payload["part"] = part;
        }
        return payload;
    }

    private static JsonArray Output(JsonObject request, string model)
    {
        var output = new JsonArray();
        if (model.StartsWith("reasoning", StringComparison.Ordinal))
        {
            var reasoning = new JsonObject { ["id"] = Id("rs"), ["type"] = "reasoning" };
            if (request["include"]?.AsArray().Any(i => i!.GetValue<string>() == "reasoning.encrypted_content") == true)
            {
                reasoning["encrypted_content"] = "gAAAAABencrypted";
            }
            reasoning["summary"] = new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = "Thinking about it." });
            output.Add(reasoning);
        }
        if (model.StartsWith("tools", StringComparison.Ordinal))
        {
            output.Add(new JsonObject
            {
                ["id"] = Id("fc"), ["type"] = "function_call", ["status"] = "completed", ["arguments"] = """{"city":"Paris"}""",
                ["call_id"] = "call_" + Guid.NewGuid().ToString("N")[..24], ["name"] = "get_weather",
            });
            return output;
        }
        output.Add(new JsonObject
        {
            ["id"] = Id("msg"), ["type"] = "message", ["status"] = "completed",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = Text }),
            ["role"] = "assistant",
        });
        return output;
    }

    /// <summary>A response object, keys in the live order, echoing the request as received.</summary>
    private static JsonObject Response(string id, JsonObject request, string status, JsonArray output)
    {
        var done = status is "completed" or "failed";
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = 1758064478,
            ["status"] = status,
            ["background"] = false,
            ["error"] = status == "failed" ? new JsonObject { ["code"] = "server_error", ["message"] = "The model failed upstream." } : null,
            ["incomplete_details"] = null,
            ["instructions"] = request["instructions"]?.DeepClone(),
            ["max_output_tokens"] = request["max_output_tokens"]?.DeepClone(),
            ["max_tool_calls"] = null,
            ["model"] = request["model"]!.GetValue<string>() + "-2025-01-01",
            ["output"] = output.DeepClone(),
            ["parallel_tool_calls"] = true,
            ["previous_response_id"] = request["previous_response_id"]?.DeepClone(),
            ["prompt_cache_key"] = null,
            ["reasoning"] = new JsonObject { ["effort"] = null, ["summary"] = null },
            ["safety_identifier"] = null,
            ["service_tier"] = done ? "default" : "auto",
            ["store"] = request["store"]?.DeepClone() ?? true,
            ["temperature"] = request["temperature"]?.DeepClone() ?? 1.0,
            ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "text" }, ["verbosity"] = "medium" },
            ["tool_choice"] = request["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = request["tools"]?.DeepClone() ?? new JsonArray(),
            ["top_logprobs"] = 0,
            ["top_p"] = 1.0,
            ["truncation"] = "disabled",
            ["usage"] = status == "completed"
                ? JsonNode.Parse("""{"input_tokens":11,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15}""")
                : null,
            ["user"] = null,
            ["x_vendor"] = new JsonObject { ["gpu"] = "h100" },
            ["metadata"] = request["metadata"]?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>An id as OpenAI's look: a prefix and 50 hex digits, new every time.</summary>
    private static string Id(string prefix) => $"{prefix}_{Guid.NewGuid():N}{Guid.NewGuid():N}"[..(prefix.Length + 51)];

    /// <summary>Sends events as the live API frames them: <c>event: type</c>, <c>data: {type, sequence_number, …}</c>, a blank line.</summary>
    private sealed class Events(HttpResponse response)
    {
        private int sequence;

        public async Task SendAsync(string type, JsonObject fields)
        {
            var payload = new JsonObject { ["type"] = type, ["sequence_number"] = sequence++ };
            foreach (var (name, value) in fields.ToList())
            {
                fields.Remove(name);
                payload[name] = value;
            }
            await response.WriteAsync($"event: {type}\ndata: {payload.ToJsonString(Json)}\n\n");
            await response.Body.FlushAsync();
        }
    }
}
