using System.ClientModel;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Export;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>Imports on SQLite.</summary>
public sealed class ImportTests(ExportFixture fixture) : ImportContract(fixture), IClassFixture<ExportFixture>;

/// <summary>Imports on PostgreSQL.</summary>
public sealed class ImportPostgresTests(PostgresExportFixture fixture) : ImportContract(fixture), IClassFixture<PostgresExportFixture>;

/// <summary>
/// Export then import: a fresh store answers every stored-completion request exactly as the one exported from;
/// importing again, or importing what was deleted, changes nothing; a malformed line stops the import at its
/// line number, with everything before it stored.
/// </summary>
public abstract class ImportContract(ExportFixture fixture)
{
    private readonly CairnServer server = fixture.Cairn;

    private async Task<List<string>> CreateAsync(string run)
    {
        string[] bodies =
        [
            $$$$"""{"model":"echo","store":true,"metadata":{"run":"{{{{run}}}}","n":"1"},"messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}],"name":"ann"}]}""",
            $$$$"""{"model":"{{{{ExportFixture.ToolModel}}}}","store":true,"metadata":{"run":"{{{{run}}}}","n":"2"},"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"Weather?"}]}""",
            $$$$"""{"model":"echo","store":true,"n":2,"temperature":0.5,"metadata":{"run":"{{{{run}}}}","n":"3","é":"ü \"quoted\""},"messages":[{"role":"system","content":"s"},{"role":"user","content":"Ünïcödé ✓ and \u0001"}]}""",
        ];
        var ids = new List<string>();
        foreach (var body in bodies)
        {
            using var response = await server.PostJsonAsync("/v1/chat/completions", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            ids.Add(JsonNode.Parse(text)!["id"]!.GetValue<string>());
        }
        return ids;
    }

    private static async Task<byte[]> ExportAsync(CairnServer from, string run)
    {
        using var output = new MemoryStream();
        await from.Services.GetRequiredService<CompletionExporter>().WriteAsync(
            new ExportFilter(null, null, [new("run", run)], null, null), ExportFormat.Raw, output, null, default);
        return output.ToArray();
    }

    private static Task<ImportResult> ImportAsync(CairnServer into, byte[] jsonl, string? project = null) =>
        into.Services.GetRequiredService<CompletionImporter>().ImportAsync(new MemoryStream(jsonl), project, null, default);

    private static byte[] Get(ChatClient chat, string id) => chat.GetChatCompletion(id).GetRawResponse().Content.ToArray();

    private static List<byte[]> Messages(ChatClient chat, string id) =>
        [.. chat.GetChatCompletionMessages(id, new ChatCompletionMessageCollectionOptions { PageSizeLimit = 2 }).GetRawPages().Select(p => p.GetRawResponse().Content.ToArray())];

    private static List<string> List(ChatClient chat, string run, string? model = null)
    {
        var options = new ChatCompletionCollectionOptions { Metadata = { ["run"] = run } };
        if (model is not null)
        {
            options.Model = model;
        }
        return [.. chat.GetChatCompletions(options).Select(c => c.Id)];
    }

    [Fact]
    public async Task ExportThenImportIntoAFreshStore_AnswersGetMessagesAndListsByteForByte_ThroughTheOpenAIClient()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await CreateAsync(run);
        var jsonl = await ExportAsync(server, run);
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var result = await ImportAsync(fresh, jsonl);

        Assert.Equal(new ImportResult(3, 0, jsonl.Length, null), result);
        var (before, after) = (server.Chat(), fresh.Chat());
        foreach (var id in ids)
        {
            Assert.Equal(Get(before, id), Get(after, id));
            var (old, imported) = (Messages(before, id), Messages(after, id));
            Assert.Equal(old.Count, imported.Count);
            Assert.All(old.Zip(imported), page => Assert.Equal(page.First, page.Second));
        }
        Assert.Equal(List(before, run), List(after, run));
        Assert.Equal([ids[1]], List(after, run, ExportFixture.ToolModel));
        Assert.Equal(jsonl, await ExportAsync(fresh, run));
    }

    [Fact]
    public async Task ImportingAgain_OrImportingWhatWasDeleted_SkipsThoseIds_AndChangesNothing()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await CreateAsync(run);
        var jsonl = await ExportAsync(server, run);
        var chat = server.Chat();
        chat.DeleteChatCompletion(ids[0]);
        var kept = Get(chat, ids[1]);

        var result = await ImportAsync(server, jsonl);

        Assert.Equal((0L, 3L, (ImportFailure?)null), (result.Imported, result.Skipped, result.Failure));
        Assert.Equal(404, Assert.Throws<ClientResultException>(() => chat.GetChatCompletion(ids[0])).Status);
        Assert.Equal(kept, Get(chat, ids[1]));
        Assert.Equal([ids[2], ids[1]], List(chat, run));
    }

    [Fact]
    public async Task ALineThatIsNotUtf8_StopsTheImportWithItsNumber_KeepingTheLineBefore()
    {
        var run = Guid.NewGuid().ToString();
        await CreateAsync(run);
        var lines = Encoding.UTF8.GetString(await ExportAsync(server, run)).Split('\n')[..^1];
        // The second line with its run id's first character replaced by a byte that is not UTF-8.
        var second = Encoding.UTF8.GetBytes(lines[1]);
        second[Encoding.UTF8.GetBytes(lines[1]).AsSpan().IndexOf(Encoding.UTF8.GetBytes(run))] = 0xFF;
        byte[] file = [.. Encoding.UTF8.GetBytes(lines[0] + "\n"), .. second, (byte)'\n', .. Encoding.UTF8.GetBytes(lines[2] + "\n")];
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var result = await ImportAsync(fresh, file);

        Assert.Equal(2, result.Failure?.Line);
        Assert.StartsWith("not valid JSON", result.Failure!.Problem, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", result.Failure!.Problem, StringComparison.Ordinal);
        Assert.Equal((1L, 0L), (result.Imported, result.Skipped));
        Assert.Single(List(fresh.Chat(), run));
    }

    [Fact]
    public async Task AMalformedLine_StopsTheImportWithItsNumber_KeepingEveryLineBeforeIt_AndARerunGoesOn()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await CreateAsync(run);
        var lines = Encoding.UTF8.GetString(await ExportAsync(server, run)).Split('\n')[..^1];
        var broken = string.Join('\n', lines[0], "", lines[1], lines[2][..40], "");
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var result = await ImportAsync(fresh, Encoding.UTF8.GetBytes(broken));
        var after = fresh.Chat();

        Assert.Equal(4, result.Failure?.Line);
        Assert.StartsWith("not valid JSON", result.Failure!.Problem, StringComparison.Ordinal);
        Assert.Equal((2L, 0L), (result.Imported, result.Skipped));
        Assert.Equal([ids[1], ids[0]], List(after, run));

        var rerun = await ImportAsync(fresh, Encoding.UTF8.GetBytes(string.Join("\r\n", lines)));

        Assert.Equal((1L, 2L, (ImportFailure?)null), (rerun.Imported, rerun.Skipped, rerun.Failure));
        Assert.Equal([ids[2], ids[1], ids[0]], List(after, run));
    }

    [Fact]
    public async Task AProjectGivenToTheImport_ReceivesEveryCompletion_AndIsCreated()
    {
        var run = Guid.NewGuid().ToString();
        var ids = await CreateAsync(run);
        var jsonl = await ExportAsync(server, run);
        await using var fresh = fixture.NewServer();
        await fresh.InitializeAsync();

        var result = await ImportAsync(fresh, jsonl, "moved");

        Assert.Equal(3, result.Imported);
        var project = await fresh.Services.GetRequiredService<Cairn.Storage.IAccessStore>().FindProjectAsync("moved", default);
        using var output = new MemoryStream();
        await fresh.Services.GetRequiredService<CompletionExporter>().WriteAsync(
            new ExportFilter(project!.Id, null, [], null, null), ExportFormat.Raw, output, null, default);
        var exported = Encoding.UTF8.GetString(output.ToArray()).Split('\n')[..^1].Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(ids, exported.Select(l => l["id"]!.GetValue<string>()));
        Assert.All(exported, l => Assert.Equal("moved", l["cairn_export"]!["project"]!.GetValue<string>()));
        // Not in the default project any more: a default-project client sees none of them.
        Assert.Empty(List(fresh.Chat(), run));
    }
}
