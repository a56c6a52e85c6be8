using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cairn.Access;
using Cairn.Export;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests;

/// <summary>Exports on SQLite.</summary>
public sealed class ExportTests(ExportFixture fixture) : ExportContract(fixture), IClassFixture<ExportFixture>;

/// <summary>Exports on PostgreSQL.</summary>
public sealed class ExportPostgresTests(PostgresExportFixture fixture) : ExportContract(fixture), IClassFixture<PostgresExportFixture>;

/// <summary>
/// What <see cref="CompletionExporter"/> writes, checked against what the server stores and serves: raw lines are the
/// stored objects byte for byte with their messages, fine-tuning lines are OpenAI's format (tool calls, tools,
/// images, the first of several choices), every filter picks exactly the matching completions, and the store is
/// read in bounded batches, each written out before the next is read.
/// </summary>
public abstract class ExportContract(ExportFixture fixture)
{
    private readonly CairnServer server = fixture.Cairn;

    private IServiceProvider Services => server.Services;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static ExportFilter Run(string run, long? project = null, string? model = null) =>
        new(project, model, [new("run", run)], null, null);

    private async Task<List<string>> ExportAsync(ExportFilter filter, ExportFormat format)
    {
        using var output = new MemoryStream();
        var written = await Services.GetRequiredService<CompletionExporter>().WriteAsync(filter, format, output, null, default);
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.True(text.Length == 0 || text.EndsWith('\n'), text);
        var lines = text.Length == 0 ? [] : text.Split('\n')[..^1].ToList();
        Assert.Equal(written, lines.Count);
        return lines;
    }

    private async Task<string> CreateAsync(string json)
    {
        using var response = await server.PostJsonAsync("/v1/chat/completions", json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    private const string ImageRequest = """
        {"model":"echo","store":true,"metadata":{"run":"RUN","kind":"image"},"messages":[
          {"role":"system","content":"Describe images."},
          {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}]}
        """;

    private const string Tools = """
        [{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]
        """;

    private const string ToolRequest = """
        {"model":"tool-caller","store":true,"metadata":{"run":"RUN","kind":"tools"},"tools":TOOLS,"messages":[
          {"role":"user","content":"Weather in Oslo, then Paris?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
          {"role":"tool","tool_call_id":"call_0","content":"sunny"}]}
        """;

    private const string TwoChoiceRequest = """
        {"model":"echo","store":true,"n":2,"metadata":{"run":"RUN","kind":"n2"},"messages":[{"role":"user","content":"Twice"}]}
        """;

    private async Task<(string Image, string Tool, string TwoChoices)> CreateKindsAsync(string run) =>
        (await CreateAsync(ImageRequest.Replace("RUN", run, StringComparison.Ordinal)),
         await CreateAsync(ToolRequest.Replace("RUN", run, StringComparison.Ordinal).Replace("TOOLS", Tools, StringComparison.Ordinal)),
         await CreateAsync(TwoChoiceRequest.Replace("RUN", run, StringComparison.Ordinal)));

    [Fact]
    public async Task Raw_IsEachStoredObjectByteForByteAsGetReturnsIt_WithItsMessagesAsTheMessagesListReturnsThem()
    {
        var run = Guid.NewGuid().ToString();
        var (image, tool, twoChoices) = await CreateKindsAsync(run);

        var lines = await ExportAsync(Run(run), ExportFormat.Raw);

        Assert.Equal([image, tool, twoChoices], lines.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
        foreach (var line in lines)
        {
            var id = JsonNode.Parse(line)!["id"]!.GetValue<string>();
            var stored = await server.Http.GetStringAsync($"/v1/chat/completions/{id}");
            const string Key = ",\"cairn_export\":";
            Assert.Equal(stored[..^1] + Key, line[..(stored.Length - 1 + Key.Length)]);
            using var export = JsonDocument.Parse(line[(stored.Length - 1 + Key.Length)..^1]);
            using var messages = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{id}/messages?limit=100"));
            Assert.Equal(
                messages.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetRawText()),
                export.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetRawText()));
            Assert.Equal(1, export.RootElement.GetProperty("version").GetInt32());
            Assert.Equal("default", export.RootElement.GetProperty("project").GetString());
            // The name the client asked for, which lists filter on; the stored object has the upstream's.
            Assert.Equal(id == tool ? ExportFixture.ToolModel : "echo", export.RootElement.GetProperty("model").GetString());
        }
    }

    [Fact]
    public async Task FineTune_IsOpenAIsChatFormat_WithImagesAsContentParts_ToolCallsOnTheAnswer_ToolsOnTheLine_AndOneLinePerCompletion()
    {
        var run = Guid.NewGuid().ToString();
        var (image, _, _) = await CreateKindsAsync(run);
        var imageAnswer = JsonNode.Parse(await server.Http.GetStringAsync($"/v1/chat/completions/{image}"))!["choices"]![0]!["message"]!["content"]!.GetValue<string>();

        var lines = await ExportAsync(Run(run), ExportFormat.FineTune);

        Assert.Equal(3, lines.Count);
        AssertJson($$$"""
            {"messages":[
              {"role":"system","content":"Describe images."},
              {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},
              {"role":"assistant","content":{{{JsonSerializer.Serialize(imageAnswer)}}}}]}
            """, lines[0]);
        AssertJson($$$"""
            {"messages":[
              {"role":"user","content":"Weather in Oslo, then Paris?"},
              {"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","content":"sunny","tool_call_id":"call_0"},
              {"role":"assistant","tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"zone\":\"CET\"}"}}]}],
             "tools":{{{Tools}}}}
            """, lines[1]);
        AssertJson("""{"messages":[{"role":"user","content":"Twice"},{"role":"assistant","content":"Twice"}]}""", lines[2]);
    }

    [Fact]
    public async Task FineTune_TakesTheChoiceWithIndexZero_AndLeavesOutAnswersWithNeitherTextNorToolCalls()
    {
        var run = Guid.NewGuid().ToString();
        var store = Services.GetRequiredService<ICompletionStore>();
        var choices = """[{"index":1,"message":{"content":"second","refusal":null,"role":"assistant","tool_calls":null},"finish_reason":"stop"},{"index":0,"message":{"content":"first","refusal":null,"role":"assistant","tool_calls":null},"finish_reason":"stop"}]""";
        var refusal = """[{"index":0,"message":{"content":null,"refusal":"I can't help with that.","role":"assistant","tool_calls":null},"finish_reason":"stop"}]""";
        await store.AddAsync(Stored(Projects.Default, "m", Now, run, choices), default);
        await store.AddAsync(Stored(Projects.Default, "m", Now, run, refusal), default);

        var lines = await ExportAsync(Run(run), ExportFormat.FineTune);

        AssertJson("""{"messages":[{"role":"user","content":"pick one"},{"role":"assistant","content":"first"}]}""", Assert.Single(lines));
        Assert.Equal(2, (await ExportAsync(Run(run), ExportFormat.Raw)).Count);
    }

    [Fact]
    public async Task EveryFilter_AndEveryCombination_ExportsExactlyTheMatchingCompletions_InStorageOrder()
    {
        var run = Guid.NewGuid().ToString();
        var access = Services.GetRequiredService<IAccessStore>();
        var a = (await access.EnsureProjectAsync("export-a-" + run[..8], default)).Id;
        var b = (await access.EnsureProjectAsync("export-b-" + run[..8], default)).Id;
        var t0 = Now - 1000;
        var store = Services.GetRequiredService<ICompletionStore>();
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var completion = Stored(i % 2 == 0 ? a : b, i % 3 == 0 ? "m-x" : "m-y", t0 + i, run, """[{"index":0,"message":{"content":"x"}}]""",
                ("parity", i % 2 == 0 ? "even" : "odd"), ("third", (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await store.AddAsync(completion, default);
            ids.Add(completion.Id);
        }
        List<string> Expect(Func<int, bool> match) => [.. Enumerable.Range(0, 12).Where(match).Select(i => ids[i])];
        KeyValuePair<string, string> Pair(string key, string value) => new(key, value);
        var runPair = Pair("run", run);
        DateTimeOffset At(double offset) => DateTimeOffset.FromUnixTimeMilliseconds((long)((t0 + offset) * 1000));

        var cases = new (ExportFilter Filter, List<string> Expected)[]
        {
            (new(a, null, [], null, null), Expect(i => i % 2 == 0)),
            (new(null, null, [runPair], null, null), Expect(_ => true)),
            (new(a, "m-x", [], null, null), Expect(i => i % 2 == 0 && i % 3 == 0)),
            (new(null, "m-y", [runPair], null, null), Expect(i => i % 3 != 0)),
            (new(b, null, [Pair("third", "1")], null, null), Expect(i => i % 2 == 1 && i % 3 == 1)),
            (new(null, null, [runPair, Pair("third", "2")], null, null), Expect(i => i % 3 == 2)),
            (new(a, null, [], At(3), At(9)), Expect(i => i % 2 == 0 && i is >= 3 and < 9)),
            (new(a, null, [], At(2.5), At(8.5)), Expect(i => i % 2 == 0 && i is >= 3 and <= 8)),
            (new(null, null, [runPair], At(10), null), Expect(i => i >= 10)),
            (new(null, null, [runPair], null, At(2)), Expect(i => i < 2)),
            (new(b, "m-x", [Pair("parity", "odd"), Pair("third", "0")], null, null), Expect(i => i % 2 == 1 && i % 3 == 0)),
            (new(b, "m-x", [Pair("parity", "even")], null, null), []),
            (new(a, "m-none", [], null, null), []),
        };
        foreach (var (filter, expected) in cases)
        {
            var lines = await ExportAsync(filter, ExportFormat.Raw);
            Assert.True(expected.SequenceEqual(lines.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>())), $"filter {filter}");
            Assert.Equal(expected.Count, await Services.GetRequiredService<ICompletionArchive>().CountAsync(
                new CompletionFilter(filter.ProjectId, filter.Model, filter.Metadata, filter.FromSeconds, filter.ToSeconds), default));
        }
        var projects = (await ExportAsync(new(null, null, [runPair], null, null), ExportFormat.Raw))
            .Select(l => JsonNode.Parse(l)!["cairn_export"]!["project"]!.GetValue<string>());
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? "export-a-" + run[..8] : "export-b-" + run[..8]), projects);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheStoreIsReadInBoundedBatches_EachWrittenOutBeforeTheNextIsRead(bool inOneProject)
    {
        var run = Guid.NewGuid().ToString();
        var store = Services.GetRequiredService<ICompletionStore>();
        for (var i = 0; i < 10; i++)
        {
            await store.AddAsync(Stored(Projects.Default, "m", Now, run, """[{"index":0,"message":{"content":"x"}}]"""), default);
        }
        using var output = new MemoryStream();
        var archive = new RecordingArchive(Services.GetRequiredService<ICompletionArchive>(), output);
        var exporter = new CompletionExporter(archive, Services.GetRequiredService<IAccessStore>()) { BatchSize = 3 };
        var reported = new List<long>();

        var written = await exporter.WriteAsync(Run(run, inOneProject ? Projects.Default : null), ExportFormat.FineTune, output, new Reports(reported), default);

        Assert.Equal(10, written);
        Assert.All(archive.Calls, call => Assert.Equal(3, call.Limit));
        Assert.Equal([3, 3, 3, 1], archive.Calls.Select(c => c.Count));
        Assert.Equal(0, archive.Calls[0].OutputLength);
        Assert.All(archive.Calls.Skip(1).Zip(archive.Calls), pair => Assert.True(pair.First.OutputLength > pair.Second.OutputLength));
        Assert.Equal([3L, 6, 9, 10], reported);
        Assert.Equal(CompletionExporter.DefaultBatchSize, Services.GetRequiredService<CompletionExporter>().BatchSize);
    }

    private static StoredCompletion Stored(long project, string model, long created, string run, string choices, params (string Key, string Value)[] more)
    {
        var id = Cairn.OpenAI.Ids.Completion();
        var metadata = new Dictionary<string, string> { ["run"] = run };
        foreach (var (key, value) in more)
        {
            metadata[key] = value;
        }
        var body = $$"""{"object":"chat.completion","id":"{{id}}","model":"{{model}}","created":{{created}},"tools":null,"metadata":{{JsonSerializer.Serialize(metadata)}},"choices":{{choices}}}""";
        byte[] message = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}-0","role":"user","content":"pick one","content_parts":null,"name":null}""");
        return new StoredCompletion(project, id, model, created, Encoding.UTF8.GetBytes(body), metadata, [message]);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}{Environment.NewLine}got {actual}");

    private sealed class Reports(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }

    /// <summary>The real archive, noting each batch asked for, what came back, and how much had been written by then.</summary>
    private sealed class RecordingArchive(ICompletionArchive inner, Stream output) : ICompletionArchive
    {
        public List<(int Limit, int Count, long OutputLength)> Calls { get; } = [];

        public async Task<IReadOnlyList<ArchivedCompletion>> ReadBatchAsync(CompletionFilter query, long afterSeq, int limit, CancellationToken cancellationToken)
        {
            var length = output.Length;
            var batch = await inner.ReadBatchAsync(query, afterSeq, limit, cancellationToken);
            Calls.Add((limit, batch.Count, length));
            return batch;
        }

        public Task<long> CountAsync(CompletionFilter query, CancellationToken cancellationToken) => inner.CountAsync(query, cancellationToken);

        public Task<IReadOnlySet<string>> TakenIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            inner.TakenIdsAsync(ids, cancellationToken);
    }
}
