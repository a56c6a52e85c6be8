using System.Net;
using System.Text.Json;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>
/// Local GGUF models run in-process (provider <c>llama</c>), through the official OpenAI client and raw HTTP:
/// content, stop, length, usage, logprobs, n, streaming, storage, structured output, tools and refusals.
/// </summary>
public sealed class LlamaTests(LlamaModels models) : IClassFixture<LlamaModels>
{
    private static readonly string Answer = GgufWriter.ScriptedAnswer;

    private CairnServer Server => models.Server;

    private static ChatMessage[] Hi => [new UserChatMessage("Hi")];

    [Fact]
    public async Task ScriptedModel_AnswersItsScript_WithUsageFromItsOwnTokenizer()
    {
        var completion = (await Server.Chat("scripted").CompleteChatAsync(Hi)).Value;

        Assert.Equal(Answer, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("scripted", completion.Model);
        Assert.Equal(GgufWriter.ScriptedPieces.Length, completion.Usage.OutputTokenCount);
        // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n": 3 control tokens, the rest one byte a token.
        Assert.Equal(3 + "user\nHi\nassistant\n".Length, completion.Usage.InputTokenCount);
        Assert.StartsWith("fp_", completion.SystemFingerprint, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("o, w", "Hell")] // spans three tokens: "lo", ",", " wor"
    [InlineData("!", "Hello, world")]
    [InlineData("Hel", "")]
    [InlineData("xyz", "Hello, world!")]
    public async Task StopSequences_AreNeverReturned_EvenSplitAcrossTokens(string stop, string expected)
    {
        var options = new ChatCompletionOptions { StopSequences = { stop } };
        var completion = (await Server.Chat("scripted").CompleteChatAsync(Hi, options)).Value;
        Assert.Equal(expected, completion.Content.Count == 0 ? "" : completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in Server.Chat("scripted").CompleteChatStreamingAsync(Hi, options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }
        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task MaxTokens_CutsTheAnswer_WithFinishReasonLength()
    {
        var completion = (await Server.Chat("scripted").CompleteChatAsync(Hi, new ChatCompletionOptions { MaxOutputTokenCount = 3 })).Value;
        Assert.Equal("Hello,", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(3, completion.Usage.OutputTokenCount);

        using var legacy = await Server.PostJsonAsync("/v1/chat/completions", """{"model":"scripted","max_tokens":2,"messages":[{"role":"user","content":"Hi"}]}""");
        using var body = JsonDocument.Parse(await legacy.Content.ReadAsStringAsync());
        Assert.Equal("Hello", body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", body.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Logprobs_AreTheModelsOwn()
    {
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        var completion = (await Server.Chat("scripted").CompleteChatAsync(Hi, options)).Value;

        var entries = completion.ContentTokenLogProbabilities;
        Assert.Equal(GgufWriter.ScriptedPieces, entries.Select(e => e.Token));
        foreach (var entry in entries)
        {
            // The scripted token has logit 22 and the other 265 tokens 0: logprob -265·e^-22 ≈ -7e-8.
            Assert.InRange(entry.LogProbability, -1e-4f, 0f);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(entry.Token), entry.Utf8Bytes!.Value.ToArray());
            Assert.Equal(2, entry.TopLogProbabilities.Count);
            Assert.Equal(entry.Token, entry.TopLogProbabilities[0].Token);
            Assert.InRange(entry.TopLogProbabilities[1].LogProbability, -GgufWriter.ScriptedLogit - 0.1f, -GgufWriter.ScriptedLogit + 0.1f);
        }

        var streamed = new List<string>();
        await foreach (var update in Server.Chat("scripted").CompleteChatStreamingAsync(Hi, options))
        {
            streamed.AddRange(update.ContentTokenLogProbabilities.Select(e => e.Token));
        }
        Assert.Equal(GgufWriter.ScriptedPieces, streamed);
    }

    [Fact]
    public async Task Streaming_SendsTheAnswerInPieces_ThenUsage()
    {
        var text = new System.Text.StringBuilder();
        var chunks = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Server.Chat("scripted").CompleteChatStreamingAsync(Hi))
        {
            chunks += update.ContentUpdate.Count;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }
        Assert.Equal(Answer, text.ToString());
        Assert.True(chunks >= 2);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(GgufWriter.ScriptedPieces.Length, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task TheResponsesApi_IsAnsweredByALocalModel_WholeStreamedAndChained()
    {
#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.
        var responses = Server.Responses();
        var first = (await responses.CreateResponseAsync("scripted", "Hi")).Value;
        var options = new global::OpenAI.Responses.CreateResponseOptions("scripted", [global::OpenAI.Responses.ResponseItem.CreateUserMessageItem("Again")])
        {
            PreviousResponseId = first.Id,
            StreamingEnabled = true,
        };
        var text = new System.Text.StringBuilder();
        global::OpenAI.Responses.ResponseResult? second = null;
        await foreach (var update in await responses.CreateResponseStreamingAsync(options))
        {
            text.Append((update as global::OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate)?.Delta);
            second = (update as global::OpenAI.Responses.StreamingResponseCompletedUpdate)?.Response ?? second;
        }
#pragma warning restore OPENAI001

        Assert.Equal(Answer, first.GetOutputText());
        Assert.Equal(GgufWriter.ScriptedPieces.Length, first.Usage.OutputTokenCount);
        Assert.Equal(Answer, text.ToString());
        Assert.Equal(Answer, second!.GetOutputText());
        // The second turn's prompt holds the first turn's question and answer.
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount + Answer.Length);
    }

    [Fact]
    public async Task N_GivesThatManyChoices()
    {
        using var response = await Server.PostJsonAsync("/v1/chat/completions", """{"model":"scripted","n":3,"messages":[{"role":"user","content":"Hi"}]}""");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choices = body.RootElement.GetProperty("choices");
        Assert.Equal(3, choices.GetArrayLength());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            Assert.Equal(Answer, choices[i].GetProperty("message").GetProperty("content").GetString());
        }
        Assert.Equal(3 * GgufWriter.ScriptedPieces.Length, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task SameSeed_SameOutput_OtherSeed_OtherOutput()
    {
        async Task<string> Run(long seed) =>
            (await Server.Chat("random").CompleteChatAsync(Hi, new ChatCompletionOptions { Seed = seed, MaxOutputTokenCount = 24 })).Value.Content is { Count: > 0 } c ? c[0].Text : "";

        var first = await Run(42);
        Assert.Equal(first, await Run(42));
        var others = new[] { await Run(1), await Run(2), await Run(3) };
        Assert.Contains(others, o => o != first);
    }

    [Fact]
    public async Task SamplingParameters_AreHonoured()
    {
        // The end tokens are banned unless a test bans another, so every answer is 40 tokens long.
        async Task<string> Run(string model, string extra, string bias = """{"263":-100,"264":-100,"265":-100}""")
        {
            using var response = await Server.PostJsonAsync("/v1/chat/completions",
                $$"""{"model":"{{model}}","max_tokens":40,"logit_bias":{{bias}},"messages":[{"role":"user","content":"Hi"}]{{extra}}}""");
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            using var body = JsonDocument.Parse(text);
            return body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        }

        // temperature 0 is greedy: the seed does not matter.
        var greedy = await Run("random", ""","temperature":0,"seed":1""");
        Assert.Equal(greedy, await Run("random", ""","temperature":0,"seed":2"""));
        // A nucleus this small holds only the most likely token: greedy again, at temperature 1.
        Assert.Equal(greedy, await Run("random", ""","temperature":1,"top_p":0.000001,"seed":3"""));
        Assert.NotEqual(greedy, await Run("random", ""","temperature":1,"seed":3"""));
        // Penalties, exactly: the scripted model's next token has logit ~21.99; a +30 bias on "Hel" (token 257)
        // makes greedy decoding repeat it until the penalties (presence once, frequency per use) bring it below.
        const string hel = """{"257":30}""";
        Assert.Equal(string.Concat(Enumerable.Repeat("Hel", 40)), await Run("scripted", ""","temperature":0""", hel));
        // 30 - 2·count: 28, 26, 24, 22 (still above 21.99), then 20: five times "Hel", then the script.
        Assert.Equal("HelHelHelHel" + Answer, await Run("scripted", ""","temperature":0,"frequency_penalty":2""", hel));
        // 30 - (2 + 2·count): 26, 24, 22, then 20: four times.
        Assert.Equal("HelHelHel" + Answer, await Run("scripted", ""","temperature":0,"frequency_penalty":2,"presence_penalty":2""", hel));
        // Presence alone costs 2 once: 28 stays above the script's 21.99.
        Assert.Equal(string.Concat(Enumerable.Repeat("Hel", 40)), await Run("scripted", ""","temperature":0,"presence_penalty":2""", hel));
        // logit_bias -100 bans a token: the scripted model cannot start with "Hel" (token 257).
        var banned = await Run("scripted", ""","seed":5""", """{"257":-100}""");
        Assert.False(banned.StartsWith("Hel", StringComparison.Ordinal), banned);
    }

    [Fact]
    public async Task ParallelRequests_EachGetWhatTheyGetAlone()
    {
        var seeds = Enumerable.Range(100, 8).ToArray();
        async Task<string> Run(int seed) =>
            (await Server.Chat("random").CompleteChatAsync(Hi, new ChatCompletionOptions { Seed = seed, MaxOutputTokenCount = 20, Temperature = 0.9f })).Value
                .Content is { Count: > 0 } c ? c[0].Text : "";

        var alone = new List<string>();
        foreach (var seed in seeds)
        {
            alone.Add(await Run(seed));
        }
        var together = await Task.WhenAll(seeds.Select(Run));
        Assert.Equal(alone, together);
    }

    [Fact]
    public async Task JsonSchema_OutputParsesAndMatches()
    {
        const string schema = """{"type":"object","properties":{"answer":{"type":"string","enum":["yes","no"]},"count":{"type":"integer"},"tags":{"type":"array","items":{"type":"boolean"},"maxItems":3}},"required":["answer","count","tags"],"additionalProperties":false}""";
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("reply", BinaryData.FromString(schema), jsonSchemaIsStrict: true),
            MaxOutputTokenCount = 400, // the grammar's longest answer is about 230 tokens of this byte-level vocabulary
            Seed = 5,
        };
        foreach (var model in new[] { "random", "scripted" })
        {
            var completion = (await Server.Chat(model).CompleteChatAsync(Hi, options)).Value;
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            using var json = JsonDocument.Parse(completion.Content[0].Text);
            Assert.Contains(json.RootElement.GetProperty("answer").GetString(), new[] { "yes", "no" });
            Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("count").ValueKind);
            Assert.InRange(json.RootElement.GetProperty("tags").GetArrayLength(), 0, 3);
            Assert.Equal(3, json.RootElement.EnumerateObject().Count());
        }
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"}}}""")] // both optional
    [InlineData("""{"type":"object","properties":{"k":{"type":["integer","null"]},"o":{"type":"boolean"}},"required":["k"]}""")]
    [InlineData("""{"anyOf":[{"type":"boolean"},{"const":"fixed"}]}""")]
    [InlineData("""{"type":"array","items":{"enum":[1,"two",null]},"minItems":2,"maxItems":4}""")]
    [InlineData("""{"$defs":{"leaf":{"type":"object","properties":{"on":{"type":"boolean"}},"required":["on"]}},"type":"object","properties":{"left":{"$ref":"#/$defs/leaf"},"right":{"$ref":"#/$defs/leaf"}},"required":["left","right"]}""")]
    [InlineData("""{"type":"object","properties":{"code":{"type":"string","minLength":2,"maxLength":3}},"required":["code"]}""")]
    [InlineData("""{"enum":["a\"b","line\nbreak","ünï 🦙","back\\slash"]}""")]
    public async Task JsonSchema_Features_GiveJsonThatMatches(string schema)
    {
        using var response = await Server.PostJsonAsync("/v1/chat/completions",
            """{"model":"scripted","seed":11,"max_tokens":300,"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","strict":true,"schema":"""
            + schema + "}}}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        var choice = body.RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        using var output = JsonDocument.Parse(choice.GetProperty("message").GetProperty("content").GetString()!);
        Assert.True(Matches(JsonDocument.Parse(schema).RootElement, output.RootElement, JsonDocument.Parse(schema).RootElement), output.RootElement.GetRawText());
    }

    /// <summary>A small validator for the keywords these schemas use.</summary>
    private static bool Matches(JsonElement schema, JsonElement value, JsonElement root)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            return Matches(root.GetProperty("$defs").GetProperty(reference.GetString()!["#/$defs/".Length..]), value, root);
        }
        if (schema.TryGetProperty("const", out var constant))
        {
            return constant.GetRawText() == value.GetRawText();
        }
        if (schema.TryGetProperty("enum", out var options))
        {
            return options.EnumerateArray().Any(o => o.GetRawText() == value.GetRawText());
        }
        if (schema.TryGetProperty("anyOf", out var any))
        {
            return any.EnumerateArray().Any(s => Matches(s, value, root));
        }
        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList() : [type.GetString()];
            var kind = value.ValueKind switch
            {
                JsonValueKind.Object => "object",
                JsonValueKind.Array => "array",
                JsonValueKind.String => "string",
                JsonValueKind.Number => value.TryGetInt64(out _) ? "integer" : "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            };
            if (!types.Contains(kind) && !(kind == "integer" && types.Contains("number")))
            {
                return false;
            }
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = schema.TryGetProperty("properties", out var p) ? p : default;
                var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()).ToList() : [];
                return required.All(name => value.TryGetProperty(name!, out _))
                    && value.EnumerateObject().All(field => properties.ValueKind == JsonValueKind.Object
                        && properties.TryGetProperty(field.Name, out var sub) && Matches(sub, field.Value, root));
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                return (!schema.TryGetProperty("minItems", out var min) || count >= min.GetInt32())
                    && (!schema.TryGetProperty("maxItems", out var max) || count <= max.GetInt32())
                    && (!schema.TryGetProperty("items", out var items) || value.EnumerateArray().All(v => Matches(items, v, root)));
            case JsonValueKind.String:
                var length = value.GetString()!.Length;
                return (!schema.TryGetProperty("minLength", out var least) || length >= least.GetInt32())
                    && (!schema.TryGetProperty("maxLength", out var most) || length <= most.GetInt32());
            default:
                return true;
        }
    }

    [Fact]
    public async Task JsonObject_OutputIsAnObject()
    {
        // The bias makes the scripted model close the object at once; the grammar makes the rest valid JSON.
        using var response = await Server.PostJsonAsync("/v1/chat/completions",
            """{"model":"scripted","seed":3,"max_tokens":50,"response_format":{"type":"json_object"},"logit_bias":{"125":100},"messages":[{"role":"user","content":"Hi"}]}""");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var content = body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        using var json = JsonDocument.Parse(content);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
    }

    [Fact]
    public async Task RequiredToolChoice_GivesOpenAIShapedToolCalls_ThatAreStored()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo"]},"days":{"type":"integer","enum":[1,2,3]}},"required":["city","days"],"additionalProperties":false}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), AllowParallelToolCalls = false, StoredOutputEnabled = true, MaxOutputTokenCount = 400, Seed = 9 };
        var completion = (await Server.Chat("random").CompleteChatAsync(Hi, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        using var arguments = JsonDocument.Parse(call.FunctionArguments);
        Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), new[] { "Paris", "Oslo" });
        Assert.InRange(arguments.RootElement.GetProperty("days").GetInt32(), 1, 3);

        var stored = (await Server.Chat("random").GetChatCompletionAsync(completion.Id)).Value;
        Assert.Equal(call.Id, Assert.Single(stored.ToolCalls).Id);
        Assert.Equal(call.FunctionArguments.ToString(), stored.ToolCalls[0].FunctionArguments.ToString());

        string? streamedName = null;
        await foreach (var update in Server.Chat("random").CompleteChatStreamingAsync(Hi, options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                streamedName ??= part.FunctionName;
            }
        }
        Assert.Equal("get_weather", streamedName);
    }

    [Fact]
    public async Task ParallelToolCalls_AreEachValid_AndANamedChoiceCallsOnlyThatTool()
    {
        var weather = ChatTool.CreateFunctionTool("get_weather", null,
            BinaryData.FromString("""{"type":"object","properties":{"city":{"enum":["Paris","Oslo"]}},"required":["city"],"additionalProperties":false}"""));
        var time = ChatTool.CreateFunctionTool("get_time", null,
            BinaryData.FromString("""{"type":"object","properties":{"zone":{"enum":["UTC","CET"]}},"required":["zone"],"additionalProperties":false}"""));
        var finished = 0;
        for (var seed = 1; seed <= 4; seed++)
        {
            var options = new ChatCompletionOptions { Tools = { weather, time }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), MaxOutputTokenCount = 600, Seed = seed };
            var completion = (await Server.Chat("random").CompleteChatAsync(Hi, options)).Value;
            if (completion.FinishReason == ChatFinishReason.Length)
            {
                continue; // the random model may keep adding calls until the limit; the finished ones are checked
            }
            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            Assert.NotEmpty(completion.ToolCalls);
            finished++;
            Assert.Equal(completion.ToolCalls.Count, completion.ToolCalls.Select(c => c.Id).Distinct().Count());
            foreach (var call in completion.ToolCalls)
            {
                using var arguments = JsonDocument.Parse(call.FunctionArguments);
                var (key, allowed) = call.FunctionName == "get_weather" ? ("city", new[] { "Paris", "Oslo" }) : ("zone", new[] { "UTC", "CET" });
                Assert.Contains(arguments.RootElement.GetProperty(key).GetString(), allowed);
            }
        }
        Assert.True(finished > 0, "no answer finished within the limit");

        var named = new ChatCompletionOptions { Tools = { weather, time }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_time"), MaxOutputTokenCount = 300, Seed = 2 };
        var only = (await Server.Chat("random").CompleteChatAsync(Hi, named)).Value;
        Assert.Equal("get_time", Assert.Single(only.ToolCalls).FunctionName);
    }

    [Fact]
    public async Task AutoToolChoice_TheModelDecidesToCall_AndTheCallIsConstrained()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "The weather in a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo"]}},"required":["city"],"additionalProperties":false}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, MaxOutputTokenCount = 200, Seed = 4, AllowParallelToolCalls = false };
        var completion = (await Server.Chat("tool-caller").CompleteChatAsync(Hi, options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("OK", completion.Content[0].Text);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        using var arguments = JsonDocument.Parse(call.FunctionArguments);
        Assert.Contains(arguments.RootElement.GetProperty("city").GetString(), new[] { "Paris", "Oslo" });

        var text = new System.Text.StringBuilder();
        var calls = new List<string>();
        ChatFinishReason? finish = null;
        await foreach (var update in Server.Chat("tool-caller").CompleteChatStreamingAsync(Hi, options))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            calls.AddRange(update.ToolCallUpdates.Where(u => u.FunctionName is not null).Select(u => u.FunctionName));
            finish = update.FinishReason ?? finish;
        }
        Assert.Equal("OK", text.ToString());
        Assert.Equal(["get_weather"], calls);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);

        // With tool_choice none the same model's tag is plain text: no tools are offered.
        var none = (await Server.Chat("tool-caller").CompleteChatAsync(Hi, new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateNoneChoice(), MaxOutputTokenCount = 5 })).Value;
        Assert.Empty(none.ToolCalls);
        Assert.StartsWith("OK<tool_call>", none.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolResults_GoBackToTheModel()
    {
        // A whole tool round trip in the prompt; the scripted model answers its script whatever the conversation.
        using var response = await Server.PostJsonAsync("/v1/chat/completions", """
            {"model":"scripted","messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"sunny"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        Assert.Equal(Answer, body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(body.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 100);
    }

    [Theory]
    [InlineData("""{"logit_bias":{"99999":5}}""", "logit_bias", "invalid_value")]
    [InlineData("""{"audio":{"voice":"alloy","format":"mp3"},"modalities":["text","audio"]}""", "audio", "unsupported_parameter")]
    [InlineData("""{"top_k":5}""", "top_k", "unknown_parameter")]
    [InlineData("""{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"^a+$"}}}}""", "response_format.json_schema.schema", "invalid_json_schema")]
    [InlineData("""{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"#/$defs/missing"}}}}""", "response_format.json_schema.schema", "invalid_json_schema")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"n":{"type":"number","minimum":3}}}}}],"tool_choice":"required"}""", "tools[0].function.parameters.properties.n", "invalid_function_parameters")]
    [InlineData("""{"response_format":{"type":"json_object"},"tools":[{"type":"function","function":{"name":"f"}}]}""", "response_format", "unsupported_parameter")]
    public async Task WhatCannotBeHonoured_IsA400NamingIt(string extra, string param, string code)
    {
        var body = JsonDocument.Parse(extra).RootElement.EnumerateObject().Aggregate(
            """{"model":"scripted","messages":[{"role":"user","content":"Hi"}]""", (json, p) => json + "," + JsonSerializer.Serialize(p.Name) + ":" + p.Value.GetRawText()) + "}";
        using var response = await Server.PostJsonAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(code, error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task APromptLongerThanTheContext_IsContextLengthExceeded()
    {
        var words = string.Join(' ', Enumerable.Repeat("zq", LlamaModels.ContextSize));
        using var response = await Server.PostJsonAsync("/v1/chat/completions", $$"""{"model":"scripted","messages":[{"role":"user","content":"{{words}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("context_length_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("messages", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task ACancelledRequest_FreesItsSequenceAtOnce()
    {
        var backend = Server.Services.GetServices<Cairn.Backends.Llama.LlamaBackend>().Single(b => b.Entry == "Models:1");
        using var cancel = new CancellationTokenSource();
        // The end tokens are banned, so only the cancellation ends this answer.
        var options = new ChatCompletionOptions { Seed = 1, LogitBiases = { [263] = -100, [264] = -100, [265] = -100 } };
        var got = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in Server.Chat("random").CompleteChatStreamingAsync(Hi, options, cancel.Token))
            {
                if (++got == 3)
                {
                    Assert.Equal(1, backend.Busy);
                    await cancel.CancelAsync();
                }
            }
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (backend.Busy > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, backend.Busy);
    }
}

/// <summary>Bad local-model settings stop Cairn at start with one line naming the entry and key.</summary>
public sealed class LlamaStartupTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task AMissingModelFile_StopsTheServer_WithOneLine()
    {
        var (code, line) = await StartAsync(LlamaModels.Entry(0, "local", folder.File("nowhere.gguf")));
        Assert.Equal(2, code);
        Assert.Contains("Models:0:ModelPath", line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownChatTemplate_StopsTheServer_WithOneLine()
    {
        var path = folder.File("scripted.gguf");
        GgufWriter.WriteScripted(path);
        var (code, line) = await StartAsync([.. LlamaModels.Entry(0, "local", path), "--Models:0:ChatTemplate=no-such-template"]);
        Assert.Equal(2, code);
        Assert.Contains("Models:0:ChatTemplate", line, StringComparison.Ordinal);
        Assert.Contains("no-such-template", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileThatIsNotAModel_StopsTheServer_WithOneLine()
    {
        var path = folder.File("text.gguf");
        await File.WriteAllTextAsync(path, "not a model");
        var (code, line) = await StartAsync(LlamaModels.Entry(0, "local", path));
        Assert.Equal(2, code);
        Assert.Contains("Models:0:ModelPath", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AtDebug_TheLogHoldsNoPromptOrAnswerText()
    {
        var path = folder.File("scripted.gguf");
        GgufWriter.WriteScripted(path);
        using var server = await CairnProcess.StartAsync(folder.File("log.db"), [.. LlamaModels.Entry(0, "local", path), "--Logging:LogLevel:Default=Debug"]);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var content = new StringContent("""{"model":"local","stream":true,"messages":[{"role":"user","content":"zebra-marker-31"}]}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/v1/chat/completions", content);
        Assert.Contains("\" wor\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Task.Delay(200);

        Assert.Contains("llama.cpp", server.Output, StringComparison.Ordinal); // the native log is routed here
        Assert.DoesNotContain("zebra-marker-31", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(GgufWriter.ScriptedAnswer, server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AGrammarLlamaCppRejects_IsCaught_NotRunAndNotACrash()
    {
        var path = folder.File("scripted.gguf");
        GgufWriter.WriteScripted(path);
        using var engine = Cairn.Llama.LlamaEngine.Load(new Cairn.Llama.LlamaEngineOptions { ModelPath = path, ContextSize = 128, ParallelSequences = 1 },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.True(engine.Vocab.Accepts("root ::= \"yes\" | \"no\""));
        Assert.False(engine.Vocab.Accepts("root ::= yes | "));
        Assert.False(engine.Vocab.Accepts("root ::= [a-"));
        var error = Assert.Throws<Cairn.OpenAI.OpenAIException>(() => Cairn.Backends.Llama.LlamaRequest.Checked(engine, "root ::= (", "response_format"));
        Assert.Equal(400, error.Error.Status);
        Assert.Equal("invalid_grammar", error.Error.Code);
        Assert.Equal("response_format", error.Error.Param);
    }

    private async Task<(int Code, string Line)> StartAsync(string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--db", folder.File("x.db"), .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await stdout;
        var text = (await stderr).Trim();
        Assert.Single(text.Split('\n'));
        return (process.ExitCode, text);
    }

    public void Dispose() => folder.Dispose();
}

/// <summary>A full queue refuses new work with a 503 instead of letting requests pile up.</summary>
public sealed class LlamaBackpressureTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task WhenEverySequenceIsBusyAndTheQueueFull_ARequestGets503WithRetryAfter()
    {
        var path = folder.File("random.gguf");
        GgufWriter.WriteRandom(path);
        // A long context keeps the first answer going for seconds even on a fast machine.
        await using var server = await CairnServer.StartAsync([.. LlamaModels.Entry(0, "random", path, parallel: 1), "--Models:0:MaxQueue=0", "--Models:0:ContextSize=65536"]);
        using var cancel = new CancellationTokenSource();
        // One endless answer (end tokens banned) holds the only sequence.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"random","stream":true,"logit_bias":{"263":-100,"264":-100,"265":-100},"messages":[{"role":"user","content":"Hi"}]}""",
                System.Text.Encoding.UTF8, "application/json"),
        };
        using var first = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        using var stream = await first.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        Assert.StartsWith("data: ", await reader.ReadLineAsync());

        using var tooMany = await server.PostJsonAsync("/v1/chat/completions", """{"model":"random","n":2,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode); // more choices than could ever be queued

        using var refused = await server.PostJsonAsync("/v1/chat/completions", """{"model":"random","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("server_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    public void Dispose() => folder.Dispose();
}
