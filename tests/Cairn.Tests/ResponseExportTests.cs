using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Export;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests;

/// <summary>Exports and imports of stored responses on SQLite.</summary>
public sealed class ResponseExportTests(ExportFixture fixture) : ResponseExportContract(fixture), IClassFixture<ExportFixture>;

/// <summary>Exports and imports of stored responses on PostgreSQL.</summary>
public sealed class ResponseExportPostgresTests(PostgresExportFixture fixture) : ResponseExportContract(fixture), IClassFixture<PostgresExportFixture>;

/// <summary>
/// Stored responses through an export and an import: raw lines carry chains so that a fresh store answers GET and
/// input_items byte for byte and chains go on; fine-tuning lines hold a whole chain each; filters pick responses and
/// cut chains cleanly; re-imports skip; a line whose chain is not there stops the import, naming it.
/// </summary>
public abstract class ResponseExportContract(ExportFixture fixture)
{
    private readonly CairnServer server = fixture.Cairn;

    private const string Tools = """
        [{"type":"function","name":"get_weather","description":"The weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false},
         {"type":"function","name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}}}]
        """;

    private static ExportFilter Run(string run, ExportObjects objects = ExportObjects.Responses, string? model = null) =>
        new(null, model, [new("run", run)], null, null) { Objects = objects };

    internal static async Task<string> CreateAsync(CairnServer on, string body)
    {
        using var response = await on.PostJsonAsync("/v1/responses", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary>A three-turn chain: a function call (two calls), their outputs, a question; every turn with the tools and <paramref name="run"/>.</summary>
    internal static async Task<List<string>> ToolChainAsync(CairnServer on, string run)
    {
        var first = await CreateAsync(on, $$"""
            {"model":"{{ExportFixture.ToolModel}}","instructions":"Use the tools.","input":"Weather and time in Paris?","tools":{{Tools}},"metadata":{"run":"{{run}}","turn":"1"} }
            """);
        var second = await CreateAsync(on, $$"""
            {"model":"echo","previous_response_id":"{{first}}","tools":{{Tools}},"metadata":{"run":"{{run}}","turn":"2"},
             "input":[{"type":"function_call_output","call_id":"call_1","output":"18C"},{"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"14:00"}]}]}
            """);
        var third = await CreateAsync(on, $$"""
            {"model":"echo","previous_response_id":"{{second}}","instructions":"Answer in French.","tools":{{Tools}},"metadata":{"run":"{{run}}","turn":"3"},
             "input":[{"role":"user","content":"Thanks!"}]}
            """);
        return [first, second, third];
    }

    /// <summary>A chain of echo turns, each continuing the one before.</summary>
    internal static async Task<List<string>> EchoChainAsync(CairnServer on, string run, params string[] inputs)
    {
        var ids = new List<string>();
        foreach (var input in inputs)
        {
            var previous = ids.Count == 0 ? "null" : $"\"{ids[^1]}\"";
            ids.Add(await CreateAsync(on, $$"""{"model":"echo","previous_response_id":{{previous}},"input":"{{input}}","metadata":{"run":"{{run}}"} }"""));
        }
        return ids;
    }

    private static async Task<List<string>> ExportAsync(CairnServer from, ExportFilter filter, ExportFormat format)
    {
        using var output = new MemoryStream();
        var written = await from.Services.GetRequiredService<StoreExporter>().WriteAsync(filter, format, output, null, default);
        var text = Encoding.UTF8.GetString(output.ToArray());
        var lines = text.Length == 0 ? [] : text.Split('\n')[..^1].ToList();
        Assert.Equal(written.Total, lines.Count);
        Assert.Equal(written.Total, await from.Services.GetRequiredService<StoreExporter>().CountAsync(filter, format, default));
        return lines;
    }

    private static Task<ImportResult> ImportAsync(CairnServer into, IEnumerable<string> lines, string? project = null) =>
        into.Services.GetRequiredService<CompletionImporter>().ImportAsync(
            new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")))), project, null, default);

    private static async Task<(HttpStatusCode Status, byte[] Body)> GetAsync(CairnServer on, string path)
    {
        using var response = await on.Http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Every page of a response's input items, newest first two at a time, as the bytes each page was.</summary>
    private static async Task<List<byte[]>> InputItemsAsync(CairnServer on, string id)
    {
        var pages = new List<byte[]>();
        for (string? after = null; ;)
        {
            var (status, body) = await GetAsync(on, $"/v1/responses/{id}/input_items?limit=2{(after is null ? "" : $"&after={after}")}");
            Assert.Equal(HttpStatusCode.OK, status);
            pages.Add(body);
            var page = JsonNode.Parse(body)!;
            if (!page["has_more"]!.GetValue<bool>())
            {
                return pages;
            }
            after = page["last_id"]!.GetValue<string>();
        }
    }

    internal static async Task AssertSameAsync(CairnServer before, CairnServer after, IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            var (old, imported) = (await GetAsync(before, $"/v1/responses/{id}"), await GetAsync(after, $"/v1/responses/{id}"));
            Assert.Equal(HttpStatusCode.OK, imported.Status);
            Assert.Equal(Encoding.UTF8.GetString(old.Body), Encoding.UTF8.GetString(imported.Body));
            Assert.Equal(
                (await InputItemsAsync(before, id)).Select(Encoding.UTF8.GetString),
                (await InputItemsAsync(after, id)).Select(Encoding.UTF8.GetString));
        }
    }

    /// <summary>The input items of a response continuing <paramref name="id"/> on <paramref name="on"/>, oldest first, but its own new input.</summary>
    internal static async Task<List<string>> ContinuedAsync(CairnServer on, string id)
    {
        var next = await CreateAsync(on, $$"""{"model":"echo","previous_response_id":"{{id}}","input":"and then?"}""");
        var (status, body) = await GetAsync(on, $"/v1/responses/{next}/input_items?order=asc&limit=100");
        Assert.Equal(HttpStatusCode.OK, status);
        var items = JsonNode.Parse(body)!["data"]!.AsArray().Select(i => i!.ToJsonString()).ToList();
        Assert.Contains("and then?", items[^1], StringComparison.Ordinal);
        return items[..^1];
    }

    [Fact]
    public async Task RawExportThenImportIntoAFreshStore_AnswersGetAndInputItemsByteForByte_AndTheChainsGoOn()
    {
        var run = Guid.NewGuid().ToString();
        var tools = await ToolChainAsync(server, run);
        var echo = await EchoChainAsync(server, run, "one", "two", "three");
        // A chain whose middle turn is deleted: its last turn carries that context itself, without a link.
        using (var deleted = await server.Http.DeleteAsync($"/v1/responses/{echo[1]}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        var completions = ExportCommandTests.CreateCompletions(server.BaseUrl, run, 1);
        var lines = await ExportAsync(server, Run(run, ExportObjects.All), ExportFormat.Raw);
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var result = await ImportAsync(fresh, lines);

        Assert.Equal(new ImportResult(6, 0, Encoding.UTF8.GetByteCount(string.Concat(lines.Select(l => l + "\n"))), null) { ResponsesImported = 5 }, result);
        Assert.Equal([.. completions, .. tools, echo[0], echo[2]], lines.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
        var exported = lines.Skip(1).Select(l => JsonNode.Parse(l)!["cairn_export"]!).ToList();
        Assert.Equal([null, tools[0], tools[1], null, null], exported.Select(e => e["previous_response_id"]?.GetValue<string>()));
        Assert.Equal([0, 0, 0, 0, 4], exported.Select(e => e["context"]!.AsArray().Count));
        Assert.Equal(["default"], exported.Select(e => e["project"]!.GetValue<string>()).Distinct());
        Assert.Equal([ExportFixture.ToolModel, "echo"], exported.Select(e => e["model"]!.GetValue<string>()).Distinct());
        await AssertSameAsync(server, fresh, [.. tools, echo[0], echo[2]]);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(fresh, $"/v1/responses/{echo[1]}")).Status);
        Assert.Equal(await ContinuedAsync(server, tools[2]), await ContinuedAsync(fresh, tools[2]));
        Assert.Equal(await ContinuedAsync(server, echo[2]), await ContinuedAsync(fresh, echo[2]));
        // What was imported exports again exactly as it was exported (the continuations made above are not of the run).
        Assert.Equal(lines, await ExportAsync(fresh, Run(run, ExportObjects.All), ExportFormat.Raw));
    }

    [Fact]
    public async Task ImportingAgain_SkipsEveryResponse_AndAProjectGivenToTheImport_ReceivesTheChains()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await ToolChainAsync(server, run);
        var lines = await ExportAsync(server, Run(run), ExportFormat.Raw);
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var again = await ImportAsync(server, lines);
        var moved = await ImportAsync(fresh, lines, "moved");

        Assert.Equal((0L, 3L, 0L, 3L, (ImportFailure?)null), (again.Imported, again.Skipped, again.ResponsesImported, again.ResponsesSkipped, again.Failure));
        Assert.Equal((3L, 0L, 3L, (ImportFailure?)null), (moved.Imported, moved.Skipped, moved.ResponsesImported, moved.Failure));
        // Not in the default project: a default-project client does not see them.
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(fresh, $"/v1/responses/{ids[2]}")).Status);
        var project = await fresh.Services.GetRequiredService<Cairn.Storage.IAccessStore>().FindProjectAsync("moved", default);
        var back = await ExportAsync(fresh, new ExportFilter(project!.Id, null, [], null, null) { Objects = ExportObjects.Responses }, ExportFormat.Raw);
        Assert.Equal(lines.Select(l => l.Replace("\"project\":\"default\"", "\"project\":\"moved\"", StringComparison.Ordinal)), back);
    }

    [Fact]
    public async Task AFilterThatCutsAChain_GivesTheKeptResponseItsContext_SoItsLineStandsAlone()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await ToolChainAsync(server, run);

        var echoOnly = await ExportAsync(server, Run(run, model: "echo"), ExportFormat.Raw);
        var third = await ExportAsync(server, new ExportFilter(null, null, [new("run", run), new("turn", "3")], null, null) { Objects = ExportObjects.Responses }, ExportFormat.Raw);
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();
        var result = await ImportAsync(fresh, third);

        Assert.Equal(ids[1..], echoOnly.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
        Assert.Null(JsonNode.Parse(echoOnly[0])!["cairn_export"]!["previous_response_id"]);
        Assert.Equal(3, JsonNode.Parse(echoOnly[0])!["cairn_export"]!["context"]!.AsArray().Count);
        Assert.Equal(ids[1], JsonNode.Parse(echoOnly[1])!["cairn_export"]!["previous_response_id"]!.GetValue<string>());
        Assert.Equal((1L, (ImportFailure?)null), (result.Imported, result.Failure));
        await AssertSameAsync(server, fresh, [ids[2]]);
        Assert.Equal(await ContinuedAsync(server, ids[2]), await ContinuedAsync(fresh, ids[2]));
    }

    [Fact]
    public async Task FiltersPickResponses_ByProjectModelMetadataAndTime_AndObjectsPickTheKinds()
    {
        var run = Guid.NewGuid().ToString();
        var tools = await ToolChainAsync(server, run);
        var echo = await EchoChainAsync(server, run, "solo");
        var completions = ExportCommandTests.CreateCompletions(server.BaseUrl, run, 1);
        var now = DateTimeOffset.UtcNow;
        var cases = new (ExportFilter Filter, List<string> Expected)[]
        {
            (Run(run), [.. tools, .. echo]),
            (Run(run, ExportObjects.Completions), completions),
            (Run(run, ExportObjects.All), [.. completions, .. tools, .. echo]),
            (Run(run, model: ExportFixture.ToolModel), [tools[0]]),
            (new ExportFilter(Cairn.Storage.Projects.Default, null, [new("run", run), new("turn", "2")], null, null) { Objects = ExportObjects.Responses }, [tools[1]]),
            (new ExportFilter(Cairn.Storage.Projects.Default + 1000, null, [new("run", run)], null, null) { Objects = ExportObjects.Responses }, []),
            (new ExportFilter(null, null, [new("run", run)], now.AddMinutes(-5), now.AddMinutes(5)) { Objects = ExportObjects.Responses }, [.. tools, .. echo]),
            (new ExportFilter(null, null, [new("run", run)], now.AddMinutes(5), null) { Objects = ExportObjects.Responses }, []),
            (new ExportFilter(null, null, [new("run", run)], null, now.AddMinutes(-5)) { Objects = ExportObjects.Responses }, []),
        };

        foreach (var (filter, expected) in cases)
        {
            var lines = await ExportAsync(server, filter, ExportFormat.Raw);
            Assert.Equal(expected, lines.Select(l => JsonNode.Parse(l)!["id"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task AChainIsOneFineTuningLine_WithTheLastInstructions_ToolCallsAndToolMessages_AndTheTools()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await ToolChainAsync(server, run);
        var answer = JsonNode.Parse((await GetAsync(server, $"/v1/responses/{ids[1]}")).Body)!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>();

        var lines = await ExportAsync(server, Run(run), ExportFormat.FineTune);
        var firstOnly = await ExportAsync(server, Run(run, model: ExportFixture.ToolModel), ExportFormat.FineTune);

        var calls = """
            {"role":"assistant","content":null,"tool_calls":[
              {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
              {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"zone\":\"CET\"}"}}]}
            """;
        var tools = """
            [{"type":"function","function":{"description":"The weather in a city","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false}},
             {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"string"}}},"strict":true}}]
            """;
        AssertJson($$"""
            {"messages":[
              {"role":"system","content":"Answer in French."},
              {"role":"user","content":[{"type":"text","text":"Weather and time in Paris?"}]},
              {{calls}},
              {"role":"tool","tool_call_id":"call_1","content":"18C"},
              {"role":"tool","tool_call_id":"call_2","content":"14:00"},
              {"role":"assistant","content":{{JsonValue.Create(answer).ToJsonString()}}},
              {"role":"user","content":[{"type":"text","text":"Thanks!"}]},
              {"role":"assistant","content":"Thanks!"}],
             "tools":{{tools}}}
            """, Assert.Single(lines));
        AssertJson($$"""
            {"messages":[
              {"role":"system","content":"Use the tools."},
              {"role":"user","content":[{"type":"text","text":"Weather and time in Paris?"}]},
              {{calls}}],
             "tools":{{tools}}}
            """, Assert.Single(firstOnly));
    }

    [Fact]
    public async Task EveryEndOfAChainIsALine_ABranchToo_AndAnAnswerWithNothingToLearnIsLeftOut()
    {
        var run = Guid.NewGuid().ToString();
        var echo = await EchoChainAsync(server, run, "hello", "again");
        await CreateAsync(server, $$"""{"model":"echo","previous_response_id":"{{echo[0]}}","input":"elsewhere","metadata":{"run":"{{run}}"} }""");
        // A refusal alone: nothing to learn from (a chat completion's refusal is left out alike).
        var refused = Cairn.OpenAI.Ids.Response(TimeProvider.System);
        await server.Services.GetRequiredService<Cairn.Storage.IResponseStore>().AddAsync(new Cairn.Storage.StoredResponse(
            Cairn.Storage.Projects.Default, refused, "echo", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), null,
            Encoding.UTF8.GetBytes($$"""{"id":"{{refused}}","object":"response","instructions":null,"tools":[]}"""),
            [new("msg_in", Encoding.UTF8.GetBytes("""{"id":"msg_in","type":"message","status":"completed","content":[{"type":"input_text","text":"Say something rude."}],"role":"user"}"""))],
            [new("msg_out", Encoding.UTF8.GetBytes("""{"id":"msg_out","type":"message","status":"completed","content":[{"type":"refusal","refusal":"No."}],"role":"assistant"}"""))],
            new Dictionary<string, string> { ["run"] = run }), default);

        using var output = new MemoryStream();
        var written = await server.Services.GetRequiredService<StoreExporter>().WriteAsync(Run(run), ExportFormat.FineTune, output, null, default);
        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n')[..^1];

        Assert.Equal(new ExportCounts(0, 2), written);
        Assert.Equal(3, await server.Services.GetRequiredService<StoreExporter>().CountAsync(Run(run), ExportFormat.FineTune, default));
        Assert.Equal(2, lines.Length);
        AssertJson("""
            {"messages":[{"role":"user","content":[{"type":"text","text":"hello"}]},{"role":"assistant","content":"hello"},
              {"role":"user","content":[{"type":"text","text":"again"}]},{"role":"assistant","content":"again"}]}
            """, lines[0]);
        AssertJson("""
            {"messages":[{"role":"user","content":[{"type":"text","text":"hello"}]},{"role":"assistant","content":"hello"},
              {"role":"user","content":[{"type":"text","text":"elsewhere"}]},{"role":"assistant","content":"elsewhere"}]}
            """, lines[1]);
    }

    [Fact]
    public async Task TheStoreIsReadInBoundedBatches_EachPartsChainsInOneQuery_HoweverLongTheChains()
    {
        var run = Guid.NewGuid().ToString();
        var chain = await EchoChainAsync(server, run, "1", "2", "3", "4", "5", "6");
        foreach (var i in new[] { 1, 2, 3 })
        {
            await CreateAsync(server, $$"""{"model":"echo","previous_response_id":"{{chain[i]}}","input":"branch {{i}}","metadata":{"run":"{{run}}"} }""");
        }
        var archive = new RecordingArchive(server.Services.GetRequiredService<Cairn.Storage.IResponseArchive>());
        var exporter = new ResponseExporter(archive, server.Services.GetRequiredService<Cairn.Storage.IAccessStore>()) { BatchSize = 4, ItemBatchSize = 2 };
        using var output = new MemoryStream();

        var written = await exporter.WriteAsync(Run(run), ExportFormat.FineTune, output, null, default);

        // Nine responses: batches of 4, 4 and 1; the chains of the four ends read at most 2 at a time, one query each.
        Assert.Equal(4, written);
        Assert.Equal([4, 4, 1], archive.Batches);
        Assert.Equal([(0, 1), (0, 2), (0, 1)], archive.ItemReads);
        Assert.Equal(4, archive.ItemReads.Sum(r => r.Chains));
        Assert.Equal(ResponseExporter.DefaultBatchSize, server.Services.GetRequiredService<ResponseExporter>().BatchSize);
    }

    [Fact]
    public async Task AResponseWhoseChainIsNotStored_StopsTheImportThere_NamingItsLine_WithTheLinesBeforeItStored()
    {
        var run = Guid.NewGuid().ToString();
        var echo = await EchoChainAsync(server, run, "a", "b");
        var other = await EchoChainAsync(server, run + "-other", "c");
        var lines = await ExportAsync(server, Run(run), ExportFormat.Raw);
        var otherLine = Assert.Single(await ExportAsync(server, Run(run + "-other"), ExportFormat.Raw));
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        // The second turn's line without the first, after a line of another chain.
        var result = await ImportAsync(fresh, [otherLine, "", lines[1], lines[0]]);

        Assert.Equal(3, result.Failure?.Line);
        Assert.Contains($"'cairn_export.previous_response_id': {echo[0]} is neither stored in project 'default' nor on a line before this one", result.Failure!.Problem, StringComparison.Ordinal);
        Assert.Equal((1L, 0L), (result.Imported, result.Skipped));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(fresh, $"/v1/responses/{other[0]}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(fresh, $"/v1/responses/{echo[1]}")).Status);

        var rerun = await ImportAsync(fresh, [otherLine, .. lines]);

        Assert.Equal((2L, 1L, (ImportFailure?)null), (rerun.Imported, rerun.Skipped, rerun.Failure));
        await AssertSameAsync(server, fresh, echo);
    }

    /// <summary>The real archive, noting the size of each batch read and of each read of items.</summary>
    private sealed class RecordingArchive(Cairn.Storage.IResponseArchive inner) : Cairn.Storage.IResponseArchive
    {
        public List<int> Batches { get; } = [];

        public List<(int Own, int Chains)> ItemReads { get; } = [];

        public async Task<IReadOnlyList<Cairn.Storage.ArchivedResponse>> ReadBatchAsync(Cairn.Storage.CompletionFilter filter, long afterSeq, int limit, CancellationToken cancellationToken)
        {
            var batch = await inner.ReadBatchAsync(filter, afterSeq, limit, cancellationToken);
            Batches.Add(batch.Count);
            return batch;
        }

        public Task<long> CountAsync(Cairn.Storage.CompletionFilter filter, bool chainEnds, CancellationToken cancellationToken) =>
            inner.CountAsync(filter, chainEnds, cancellationToken);

        public Task<IReadOnlyDictionary<long, IReadOnlyList<Cairn.Storage.ArchivedItem>>> ReadItemsAsync(
            IReadOnlyCollection<long> own, IReadOnlyCollection<long> chains, CancellationToken cancellationToken)
        {
            ItemReads.Add((own.Count, chains.Count));
            return inner.ReadItemsAsync(own, chains, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, long>> FindAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            inner.FindAsync(ids, cancellationToken);

        public Task<IReadOnlyDictionary<string, long>> FindDeletedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
            inner.FindDeletedAsync(ids, cancellationToken);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}{Environment.NewLine}got {actual}");
}
