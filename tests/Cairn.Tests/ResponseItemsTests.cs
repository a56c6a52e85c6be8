using System.Text;
using System.Text.Json;
using Cairn.OpenAI.Responses;
using Cairn.Tests.Infrastructure;

namespace Cairn.Tests;

/// <summary>
/// A request's input items as <see cref="ResponseItems.Store"/> stores them: byte for byte what OpenAI's
/// <c>input_items</c> recorded for the same request (its ids swapped for ours), and the ids Cairn gives.
/// </summary>
public sealed class ResponseItemsTests
{
    private const string ResponseId = "resp_0123456789abcdef0123456789abcdef0123456789abcdef01";

    private static ResponseRequest Parse(byte[] body) => ResponseRequestParser.Parse(body);

    private static ResponseRequest Parse(string body) => Parse(Encoding.UTF8.GetBytes(body));

    private static string Text(ResponseItem item) => Encoding.UTF8.GetString(item.Json);

    /// <summary>The item as <c>input_items</c> lists it (payloads trimmed).</summary>
    private static string ListedText(ResponseItem item) => Encoding.UTF8.GetString(ResponseItems.Listed(item.Json, imageUrls: false));

    /// <summary>The recorded item as compact JSON, with the id OpenAI gave it replaced by <paramref name="id"/>.</summary>
    private static string Recorded(JsonElement item, string id) =>
        RecordedJson.Compact(item).Replace(item.GetProperty("id").GetString()!, id, StringComparison.Ordinal);

    /// <summary>The <c>data</c> of the input_items list answered in entry <paramref name="index"/>.</summary>
    private static JsonElement Listed(string file, int index) => RecordedJson.Entries(file)[index].GetProperty("ResponseBody").GetProperty("data");

    [Fact]
    public void MessagesWithTextFileAndImage_AreStoredAsOpenAIListsThem()
    {
        const string file = "ResponseStoreTests/GetInputItemsWithMultiPartPagination.json";
        using var request = Parse(RecordedJson.RequestBody(file, 0));

        var items = ResponseItems.Store(request, ResponseId);

        // Listed in ascending order, two a page: the file's data and the image's URL are not shown.
        var listed = Listed(file, 1).EnumerateArray().Concat(Listed(file, 2).EnumerateArray()).ToList();
        Assert.Equal(4, items.Count);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(Recorded(listed[i], items[i].Id), ListedText(items[i]));
        }
        Assert.Contains("""{"type":"input_file","file_id":null,"filename":"test_favorite_foods.pdf"}""", ListedText(items[0]), StringComparison.Ordinal);
        // Stored, they keep what a later turn of the chain must show the model.
        Assert.Contains("\"file_data\":\"data:application/pdf;base64,", Text(items[0]), StringComparison.Ordinal);
    }

    [Fact]
    public void SystemAndUserMessages_AreStoredAsOpenAIListsThem()
    {
        const string file = "ResponsesTests/AllInstructionMethodsWork_SystemMessage.json";
        using var request = Parse(RecordedJson.RequestBody(file, 0));

        var items = ResponseItems.Store(request, ResponseId);

        var newestFirst = Listed(file, 2);
        Assert.Equal(Recorded(newestFirst[1], items[0].Id), Text(items[0]));
        Assert.Equal(Recorded(newestFirst[0], items[1].Id), Text(items[1]));
    }

    [Fact]
    public void AStringInput_IsStoredAsTheSdksOneUserMessage()
    {
        const string file = "ResponsesTests/AllInstructionMethodsWork_InstructionsProperty.json";
        using var request = Parse("""{"model":"gpt-4o-mini","instructions":"Always begin your replies with 'Arr, matey'","input":"Hello, model!"}""");

        var item = Assert.Single(ResponseItems.Store(request, ResponseId));

        Assert.Equal(Recorded(Listed(file, 2)[0], item.Id), Text(item));
    }

    [Fact]
    public void FunctionCallsAndOutputs_AreStoredAsOpenAIListsThem_ACallSentBackKeepingItsId()
    {
        const string file = "ResponsesTests/FunctionCallWorks.json";
        var entries = RecordedJson.Entries(file);
        var newestFirst = Listed(file, 2);
        using var first = Parse(RecordedJson.RequestBody(file, 0));
        using var second = Parse(RecordedJson.RequestBody(file, 1));
        // A client keeping its own history sends the first turn's output item back as it came.
        var call = RecordedJson.Compact(entries[0].GetProperty("ResponseBody").GetProperty("output")[0]);
        using var resent = Parse($$"""{"model":"gpt-4o-mini","input":[{{call}}]}""");

        var message = Assert.Single(ResponseItems.Store(first, ResponseId));
        var output = Assert.Single(ResponseItems.Store(second, ResponseId));
        var storedCall = Assert.Single(ResponseItems.Store(resent, ResponseId));

        Assert.Equal(Recorded(newestFirst[2], message.Id), Text(message));
        Assert.Equal(Recorded(newestFirst[0], output.Id), Text(output));
        Assert.Equal(RecordedJson.Compact(newestFirst[1]), Text(storedCall));
        Assert.Equal(newestFirst[1].GetProperty("id").GetString(), storedCall.Id);
    }

    [Fact]
    public void Ids_ShareTheResponsesTimePrefix_MsgForMessages_FcForCallsAndOutputs_RsForReasoning()
    {
        using var request = Parse("""
            {"model":"m","input":[{"role":"user","content":"hi"},
             {"type":"reasoning","summary":[]},
             {"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},
             {"type":"function_call_output","call_id":"call_1","output":"ok"},
             {"role":"user","content":"again","id":"msg_mine"}]}
            """);

        var items = ResponseItems.Store(request, ResponseId);

        Assert.Equal(["msg", "rs", "fc", "fc"], items.Take(4).Select(i => i.Id.Split('_')[0]));
        Assert.All(items.Take(4), item => Assert.Equal(ResponseId[5..21], item.Id[(item.Id.IndexOf('_') + 1)..][..16]));
        Assert.All(items.Take(4), item => Assert.Equal(50, item.Id.Length - item.Id.IndexOf('_') - 1));
        Assert.Equal(4, items.Take(4).Select(i => i.Id).Distinct().Count());
        Assert.Equal("msg_mine", items[4].Id);
        Assert.All(items, item => Assert.Equal(item.Id, JsonDocument.Parse(item.Json).RootElement.GetProperty("id").GetString()));
    }

    [Fact]
    public void AssistantHistory_IsStoredWithOutputTextParts_WhetherSentAsStringOrParts()
    {
        const string file = "ResponsesTests/MessageHistoryWorks.json";
        using var sdk = Parse(RecordedJson.RequestBody(file, 0));
        using var plain = Parse("""{"model":"m","input":[{"role":"assistant","content":"Hello, Bob. It's a nice, sunny day!"}]}""");

        var fromParts = ResponseItems.Store(sdk, ResponseId)[2];
        var fromString = Assert.Single(ResponseItems.Store(plain, ResponseId));

        Assert.Equal(
            $$"""{"id":"{{fromParts.Id}}","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Hello, Bob. It's a nice, sunny day!"}],"role":"assistant"}""",
            Text(fromParts));
        Assert.Equal(Text(fromParts).Replace(fromParts.Id, fromString.Id, StringComparison.Ordinal), Text(fromString));
    }

    [Fact]
    public void OtherShapes_FollowTheSameKeyOrder()
    {
        using var request = Parse("""
            {"model":"m","input":[
             {"type":"message","role":"assistant","id":"msg_a","status":"incomplete","phase":"final_answer","content":[{"text":"Hi","type":"output_text"},{"type":"refusal","refusal":"No."}]},
             {"type":"reasoning","id":"rs_1","summary":[{"text":"Thinking.","type":"summary_text"}],"encrypted_content":"gAAA","content":[{"type":"reasoning_text","text":"Hmm."}]},
             {"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},
             {"call_id":"call_1","type":"function_call_output","output":[{"type":"input_text","text":"22 C"}]},
             {"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AA==","detail":"low"},{"type":"input_file","file_id":"file-1","detail":"high"}]}]}
            """);

        var items = ResponseItems.Store(request, ResponseId);

        Assert.Equal(
            """{"id":"msg_a","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"Hi"},{"type":"refusal","refusal":"No."}],"phase":"final_answer","role":"assistant"}""",
            Text(items[0]));
        Assert.Equal(
            """{"id":"rs_1","type":"reasoning","content":[{"type":"reasoning_text","text":"Hmm."}],"encrypted_content":"gAAA","summary":[{"type":"summary_text","text":"Thinking."}]}""",
            Text(items[1]));
        Assert.Equal(
            $$"""{"id":"{{items[2].Id}}","type":"function_call","status":"completed","arguments":"{}","call_id":"call_1","name":"f"}""",
            Text(items[2]));
        Assert.Equal(
            $$"""{"id":"{{items[3].Id}}","type":"function_call_output","status":"completed","call_id":"call_1","output":[{"type":"input_text","text":"22 C"}]}""",
            Text(items[3]));
        Assert.Equal(
            $$"""{"id":"{{items[4].Id}}","type":"message","status":"completed","content":[{"type":"input_image","detail":"low","file_id":null,"image_url":"data:image/png;base64,AA=="},{"type":"input_file","detail":"high","file_id":"file-1"}],"role":"user"}""",
            Text(items[4]));
        Assert.Equal(
            $$"""{"id":"{{items[4].Id}}","type":"message","status":"completed","content":[{"type":"input_image","detail":"low","file_id":null,"image_url":null},{"type":"input_file","detail":"high","file_id":"file-1"}],"role":"user"}""",
            ListedText(items[4]));
    }

    [Fact]
    public void EachItem_KeepsTheElementItWasMadeFrom_ForTheModel()
    {
        using var request = Parse("""{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/a.png"}]}]}""");

        var item = Assert.Single(ResponseItems.Store(request, ResponseId));

        Assert.Equal("https://x/a.png", item.Sent!.Value.GetProperty("content")[0].GetProperty("image_url").GetString());
        Assert.Contains("\"image_url\":\"https://x/a.png\"", Text(item), StringComparison.Ordinal);
        Assert.Contains("\"image_url\":null", ListedText(item), StringComparison.Ordinal);
        Assert.Contains("\"image_url\":\"https://x/a.png\"", Encoding.UTF8.GetString(ResponseItems.Listed(item.Json, imageUrls: true)), StringComparison.Ordinal);
    }
}
