using System.Text;
using System.Text.Json;
using Cairn.OpenAI;
using Cairn.OpenAI.Responses;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// A response turned into the chat request that answers it (<see cref="ResponseChat.ToChatBody"/>): messages from
/// instructions, the chain and the input, function calls merged into one assistant message, parameters in chat's
/// names; every body one that Cairn's own chat parser accepts; 400s for calls and outputs that do not pair up.
/// </summary>
public sealed class ResponseChatTests
{
    private const string ResponseId = "resp_0123456789abcdef0123456789abcdef0123456789abcdef01";
    private const string Hi = """{"role":"user","content":"hi"}""";

    /// <summary>The chat body for <paramref name="body"/> after the stored <paramref name="context"/> items, checked by the chat parser.</summary>
    private static string Chat(string body, bool stream = false, params string[] context) =>
        Chat(Encoding.UTF8.GetBytes(body), stream, context);

    private static string Chat(byte[] body, bool stream = false, params string[] context)
    {
        using var request = ResponseRequestParser.Parse(body);
        var chat = ResponseChat.ToChatBody(request, [.. context.Select(c => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(c))],
            ResponseItems.Store(request, ResponseId), stream);
        using var parsed = ChatCompletionRequestParser.Parse(chat);
        return Encoding.UTF8.GetString(chat);
    }

    private static string Messages(string chat) => JsonDocument.Parse(chat).RootElement.GetProperty("messages").GetRawText();

    private static OpenAIError Refused(string body, params string[] context) =>
        Assert.Throws<OpenAIException>(() => Chat(body, false, context)).Error;

    /// <summary>Each of <paramref name="inputs"/> stored as a previous turn left it.</summary>
    private static string[] Context(params string[] inputs) => [.. inputs.Select(input =>
    {
        using var request = ResponseRequestParser.Parse(Encoding.UTF8.GetBytes($$"""{"model":"m","input":[{{input}}]}"""));
        return Encoding.UTF8.GetString(Assert.Single(ResponseItems.Store(request, ResponseId)).Json);
    })];

    private static string Call(string callId) => $$"""{"type":"function_call","id":"fc_{{callId}}","status":"completed","arguments":"{}","call_id":"{{callId}}","name":"f"}""";

    private static string Output(string callId, string output = "ok") => $$"""{"type":"function_call_output","call_id":"{{callId}}","output":"{{output}}"}""";

    [Fact]
    public void AStringInput_IsOneUserMessage_NotStored()
    {
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"Hello"}],"store":false}""", Chat("""{"model":"m","input":"Hello"}"""));
    }

    [Fact]
    public void Instructions_AreTheFirstSystemMessage_AndAStreamAsksForUsage()
    {
        var chat = Chat(RecordedJson.RequestBody("ResponsesTests/AllInstructionMethodsWork_InstructionsProperty.json", 0), stream: true);

        Assert.Equal(
            """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Always begin your replies with 'Arr, matey'"},{"role":"user","content":[{"type":"text","text":"Hello, model!"}]}],"store":false,"stream":true,"stream_options":{"include_usage":true}}""",
            chat);
    }

    [Fact]
    public void TheRecordedFunctionCallTurn_IsTheUserMessage_TheCall_AndItsOutput()
    {
        const string file = "ResponsesTests/FunctionCallWorks.json";
        var entries = RecordedJson.Entries(file);
        using var first = ResponseRequestParser.Parse(RecordedJson.RequestBody(file, 0));
        var context = new[]
        {
            Encoding.UTF8.GetString(ResponseItems.Store(first, ResponseId)[0].Json),
            RecordedJson.Compact(entries[0].GetProperty("ResponseBody").GetProperty("output")[0]),
        };

        var chat = Chat(RecordedJson.RequestBody(file, 1), false, context);

        Assert.Equal(
            """{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"What should I wear for the weather in San Francisco, CA?"}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_S2X9KuEJpYvFcF4hgv1XwM0j","type":"function","function":{"name":"get_weather_at_location","arguments":"{\"location\":\"San Francisco, CA\"}"}}]},{"role":"tool","tool_call_id":"call_S2X9KuEJpYvFcF4hgv1XwM0j","content":"22 celcius and windy"}],"tools":[{"type":"function","function":{"name":"get_weather_at_location","description":"Gets the weather at a specified location, optionally specifying units for temperature","parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["C","F","K"]}},"required":["location"]},"strict":false}}],"store":false}""",
            chat);
    }

    [Fact]
    public void ConsecutiveCalls_JoinTheAssistantMessageBeforeThem_ReasoningLeftOut()
    {
        var context = Context(Hi,
            """{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Two cities."}]}""",
            """{"type":"message","role":"assistant","id":"msg_a","content":[{"type":"output_text","text":"Let me check ","annotations":[]},{"type":"output_text","text":"both."}]}""",
            Call("call_a"), Call("call_b"));

        var chat = Chat($$"""{"model":"m","input":[{{Output("call_a", "12 C")}},{{Output("call_b", "30 C")}}]}""", false, context);

        Assert.Equal(
            """[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":"Let me check both.","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_a","content":"12 C"},{"role":"tool","tool_call_id":"call_b","content":"30 C"}]""",
            Messages(chat));
    }

    [Fact]
    public void AStatelessClientsOwnHistory_IsTranslatedTheSameWay()
    {
        var chat = Chat($$"""
            {"model":"m","input":[{{Hi}},{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAA"},{{Call("call_a")}},{{Call("call_b")}},
             {{Output("call_b")}},{"type":"function_call_output","call_id":"call_a","output":[{"type":"input_text","text":"part one, "},{"type":"input_text","text":"part two"}]},
             {"role":"user","content":"thanks"}]}
            """);

        Assert.Equal(
            """[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"call_b","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_b","content":"ok"},{"role":"tool","tool_call_id":"call_a","content":"part one, part two"},{"role":"user","content":"thanks"}]""",
            Messages(chat));
    }

    [Fact]
    public void ACallWithoutItsOutput_IsRefused_InTheChainOrInTheInput()
    {
        var fromChain = Refused($$"""{"model":"m","input":[{{Output("call_a")}}]}""", Context(Hi, Call("call_a"), Call("call_b")));
        var fromInput = Refused($$"""{"model":"m","input":[{{Hi}},{{Call("call_c")}},{"role":"user","content":"and?"}]}""");

        Assert.Equal((400, "input", null, "No tool output found for function call call_b."), (fromChain.Status, fromChain.Param, fromChain.Code, fromChain.Message));
        Assert.Equal("No tool output found for function call call_c.", fromInput.Message);
    }

    [Fact]
    public void AnOutputWithoutItsCall_IsRefused_EvenWhenTheCallComesAfter()
    {
        var unknown = Refused($$"""{"model":"m","input":[{{Hi}},{{Output("call_x")}}]}""", Context(Hi, Call("call_a"), Output("call_a")));
        var early = Refused($$"""{"model":"m","input":[{{Output("call_a")}},{{Call("call_a")}}]}""");

        Assert.Equal((400, "input", null, "No tool call found for function call output with call_id call_x."), (unknown.Status, unknown.Param, unknown.Code, unknown.Message));
        Assert.Equal("No tool call found for function call output with call_id call_a.", early.Message);
    }

    [Fact]
    public void AnItemAlreadyInTheChain_IsRefused()
    {
        var error = Refused("""{"model":"m","input":[{"role":"user","content":"again","id":"msg_1"}]}""", Context("""{"role":"user","content":"hi","id":"msg_1"}"""));

        Assert.Equal((400, "input", "Duplicate item found with id msg_1. Remove duplicate items from your input and try again."), (error.Status, error.Param, error.Message));
    }

    [Fact]
    public void AssistantHistory_IsTextContent_ARefusalKeptAsSuch()
    {
        var history = Chat(RecordedJson.RequestBody("ResponsesTests/MessageHistoryWorks.json", 0));
        var refused = Chat("""{"model":"m","input":[{"role":"user","content":"Do it."},{"role":"assistant","content":[{"type":"refusal","refusal":"I can't."}]},{"role":"user","content":"Please?"}]}""");

        Assert.Equal(
            """[{"role":"developer","content":[{"type":"text","text":"You are a helpful assistant."}]},{"role":"user","content":[{"type":"text","text":"Hello, Assistant, my name is Bob!"}]},{"role":"assistant","content":"Hello, Bob. It's a nice, sunny day!"},{"role":"user","content":[{"type":"text","text":"What's my name and what did you tell me the weather was like?"}]}]""",
            Messages(history));
        Assert.Equal(
            """[{"role":"user","content":"Do it."},{"role":"assistant","content":"","refusal":"I can't."},{"role":"user","content":"Please?"}]""",
            Messages(refused));
    }

    [Fact]
    public void ImagesAndFiles_AreChatParts_InTheInputAndInTheChainsStoredItems()
    {
        const string parts = """
            [{"type":"input_text","text":"Compare"},{"type":"input_image","image_url":"https://x/a.png","detail":"low"},
             {"type":"input_image","image_url":"data:image/png;base64,AA=="},
             {"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"},{"type":"input_file","file_id":"file-1"}]
            """;
        var context = Context(
            """{"role":"user","content":[{"type":"input_image","image_url":"https://x/old.png"}]}""",
            """{"role":"user","content":[{"type":"input_text","text":"Earlier"},{"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"old.pdf"}]}""");

        var chat = Chat($$"""{"model":"m","input":[{"role":"user","content":{{parts}}}]}""", false, context);

        Assert.Equal(
            """[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/old.png","detail":"auto"}}]},{"role":"user","content":[{"type":"text","text":"Earlier"},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"old.pdf"}}]},{"role":"user","content":[{"type":"text","text":"Compare"},{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"low"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}},{"type":"file","file":{"file_id":"file-1"}}]}]""",
            Messages(chat));
    }

    [Fact]
    public void TextFormats_BecomeResponseFormat_AJsonSchemaStrictUnlessItSaysNot()
    {
        var recorded = Chat(RecordedJson.RequestBody("ResponsesTests/StructuredOutputs_gpt-4o-mini.json", 0));
        var loose = Chat("""{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"s","description":"A thing.","schema":{"type":"object"},"strict":false}}}""");
        var jsonObject = Chat("""{"model":"m","input":"hi","text":{"format":{"type":"json_object"}}}""");
        var text = Chat("""{"model":"m","input":"hi","text":{"format":{"type":"text"}}}""");

        Assert.Equal(
            """{"type":"json_schema","json_schema":{"name":"data_list","schema":{"type":"object","properties":{"animal_data_list":{"type":"array","items":{"type":"string"}}},"required":["animal_data_list"],"additionalProperties":false},"strict":true}}""",
            JsonDocument.Parse(recorded).RootElement.GetProperty("response_format").GetRawText());
        Assert.Equal(
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","description":"A thing.","schema":{"type":"object"},"strict":false}},"store":false}""",
            loose);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"},"store":false}""", jsonObject);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"store":false}""", text);
    }

    [Fact]
    public void ToolsAndToolChoices_AreNestedUnderFunction()
    {
        const string head = """{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g","strict":true,"parameters":{"type":"object"}}}]""";

        // The tools f (its optional fields null) and g, then the other fields.
        static string With(string fields) => Chat(
            """{"model":"m","input":"hi","tools":[{"type":"function","name":"f","description":null,"parameters":null,"strict":null},{"type":"function","name":"g","strict":true,"parameters":{"type":"object"}}]""" + fields + "}");

        Assert.Equal(head + ""","tool_choice":{"type":"function","function":{"name":"g"}},"store":false}""",
            With(""","tool_choice":{"type":"function","name":"g"}"""));
        Assert.Equal(head + ""","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}},"parallel_tool_calls":false,"store":false}""",
            With(""","tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"f"}]},"parallel_tool_calls":false"""));
        Assert.Equal(head + ""","tool_choice":"required","parallel_tool_calls":true,"store":false}""",
            With(""","tool_choice":"required","parallel_tool_calls":true"""));
        Assert.Equal(head + ""","store":false}""", With(""));
        // With no tools, a choice of none or auto has nothing to choose from, and chat refuses a choice without tools.
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"store":false}""",
            Chat("""{"model":"m","input":"hi","tools":[],"tool_choice":"auto","parallel_tool_calls":true}"""));
    }

    [Fact]
    public void Parameters_GoInChatsNames_AndWhatCairnKeepsStaysHome()
    {
        var chat = Chat("""
            {"model":"m","input":"hi","instructions":"Be brief.","max_output_tokens":100,"temperature":0.2,"top_p":0.5,
             "include":["reasoning.encrypted_content","message.output_text.logprobs"],"top_logprobs":3,
             "reasoning":{"effort":"low","summary":"auto"},"text":{"verbosity":"high"},"user":"u","safety_identifier":"s",
             "prompt_cache_key":"k","prompt_cache_retention":"24h","service_tier":"flex",
             "metadata":{"team":"a"},"previous_response_id":"resp_1","store":true,"background":false,"truncation":"auto",
             "max_tool_calls":2,"context_management":[{"type":"compaction"}],"top_k":40,"seed":7,"stream":true}
            """, stream: true);

        Assert.Equal(
            """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"max_completion_tokens":100,"logprobs":true,"top_logprobs":3,"reasoning_effort":"low","verbosity":"high","temperature":0.2,"top_p":0.5,"user":"u","safety_identifier":"s","prompt_cache_key":"k","prompt_cache_retention":"24h","service_tier":"flex","top_k":40,"seed":7,"store":false,"stream":true,"stream_options":{"include_usage":true}}""",
            chat);
    }

    [Fact]
    public void TopLogprobs_WithoutAskingForLogprobs_IsNotSent()
    {
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"store":false}""", Chat("""{"model":"m","input":"hi","top_logprobs":5}"""));
    }

    [Fact]
    public void AContinuationWithoutInput_IsTheChainAlone()
    {
        var chat = Chat("""{"model":"m","previous_response_id":"resp_1"}""", false,
            Context(Hi, """{"type":"message","role":"assistant","id":"msg_a","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Hello!"}]}"""));

        Assert.Equal("""[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":"Hello!"}]""", Messages(chat));
    }
}
