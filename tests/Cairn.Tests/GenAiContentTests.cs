using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Completions;
using Cairn.OpenAI;

namespace Cairn.Tests;

/// <summary>Captured prompts take the GenAI conventions' shape: roles with text, image, tool-call and tool-result parts, from chat messages and Responses items alike.</summary>
public class GenAiContentTests
{
    [Fact]
    public void ChatMessages_BecomeRolesWithParts_CallsAndTheirResultsIncluded()
    {
        using var request = ChatCompletionRequestParser.Parse(Encoding.UTF8.GetBytes("""
            {"model":"m","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"look","arguments":"{\"x\":1}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"a cat"}]}
            """));

        var messages = JsonNode.Parse(GenAiContent.Input(request.Messages))!.AsArray();

        Assert.Equal("""{"role":"system","parts":[{"type":"text","content":"Be brief."}]}""", messages[0]!.ToJsonString());
        Assert.Equal("""{"role":"user","parts":[{"type":"text","content":"What is this?"},{"type":"uri","modality":"image","uri":"https://example.com/a.png"}]}""", messages[1]!.ToJsonString());
        Assert.Equal("""{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"look","arguments":"{\u0022x\u0022:1}"}]}""", messages[2]!.ToJsonString());
        Assert.Equal("""{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"a cat"}]}""", messages[3]!.ToJsonString());
    }

    [Fact]
    public void ResponsesItems_BecomeRolesWithParts_AStringInputAUserMessage()
    {
        using var items = JsonDocument.Parse("""
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"}]},
             {"type":"function_call","call_id":"call_2","name":"weather","arguments":"{}"},
             {"type":"function_call_output","call_id":"call_2","output":"sunny"},
             {"type":"reasoning","summary":[]},
             "And tomorrow?"]
            """);

        var messages = JsonNode.Parse(GenAiContent.Input(items.RootElement.EnumerateArray()))!.AsArray();

        Assert.Equal("""{"role":"user","parts":[{"type":"text","content":"Weather?"}]}""", messages[0]!.ToJsonString());
        Assert.Equal("""{"role":"assistant","parts":[{"type":"tool_call","id":"call_2","name":"weather","arguments":"{}"}]}""", messages[1]!.ToJsonString());
        Assert.Equal("""{"role":"tool","parts":[{"type":"tool_call_response","id":"call_2","response":"sunny"}]}""", messages[2]!.ToJsonString());
        Assert.Equal("""{"role":"assistant","parts":[{"type":"reasoning"}]}""", messages[3]!.ToJsonString());
        Assert.Equal("""{"role":"user","parts":[{"type":"text","content":"And tomorrow?"}]}""", messages[4]!.ToJsonString());
    }
}
