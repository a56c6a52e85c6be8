using System.Text;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Tests.Infrastructure;

/// <summary>
/// Makes stored responses and chains of them on a store, and reads them back as comparable text (each item's id and
/// JSON), for the response store's tests.
/// </summary>
internal sealed class ResponseChains(IResponseStore store)
{
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>A time long past any retention the tests set (40 days ago).</summary>
    public static long LongAgo => Now - (40 * 86_400);

    /// <summary>A response of <paramref name="inputs"/> messages in and <paramref name="outputs"/> items out, its items' text naming <paramref name="name"/>.</summary>
    public static StoredResponse Turn(
        string name, string? previous, int inputs = 1, int outputs = 1, long projectId = Projects.Default, long? createdAt = null, int padding = 0)
    {
        var id = Ids.Response(TimeProvider.System);
        var pad = new string('x', padding);
        StoredItem Item(string prefix, string text)
        {
            var itemId = Ids.Item(prefix, id);
            return new(itemId, Encoding.UTF8.GetBytes($$"""{"id":"{{itemId}}","type":"message","text":"{{text}}","pad":"{{pad}}"}"""));
        }
        var previousJson = previous is null ? "null" : $"\"{previous}\"";
        return new StoredResponse(projectId, id, "echo", createdAt ?? Now, previous,
            Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","object":"response","previous_response_id":{{previousJson}}}"""),
            [.. Enumerable.Range(0, inputs).Select(i => Item("msg", $"{name} in {i}"))],
            [.. Enumerable.Range(0, outputs).Select(i => Item(i % 2 == 0 ? "msg" : "fc", $"{name} out {i}"))],
            new Dictionary<string, string> { ["turn"] = name })
        {
            RequestId = Ids.Request(),
            LatencyMs = 12,
            InputTokens = 3,
            OutputTokens = 4,
        };
    }

    public async Task<StoredResponse> AddAsync(StoredResponse turn)
    {
        await store.AddAsync(turn, default);
        return turn;
    }

    /// <summary>Adds turns one after another, each continuing the one before (the first continues <paramref name="previous"/>).</summary>
    public async Task<List<StoredResponse>> ChainAsync(int turns, string? previous = null, long? createdAt = null)
    {
        var chain = new List<StoredResponse>();
        for (var i = 0; i < turns; i++)
        {
            chain.Add(await AddAsync(Turn($"t{i}", chain.Count > 0 ? chain[^1].Id : previous, inputs: 1 + (i % 2), outputs: 1 + (i % 3), createdAt: createdAt)));
        }
        return chain;
    }

    /// <summary>What the context of the chain's last turn must be: every turn's input then output, oldest first.</summary>
    public static List<string> Expected(IEnumerable<StoredResponse> chain) => [.. chain.SelectMany(t => t.Input.Concat(t.Output)).Select(Text)];

    /// <summary>What the input items of the chain's last turn must be, oldest first: its context less its own output.</summary>
    public static List<string> ExpectedInput(IReadOnlyList<StoredResponse> chain) => [.. Expected(chain.SkipLast(1)), .. chain[^1].Input.Select(Text)];

    public static string Text(StoredItem item) => item.Id + " " + Encoding.UTF8.GetString(item.Body);

    public async Task<List<string>> ContextAsync(string id, long projectId = Projects.Default) =>
        [.. (await store.GetContextAsync(projectId, id, default) ?? throw new InvalidOperationException($"{id} is absent")).Select(Text)];

    public async Task<StoredPage> InputItemsAsync(
        string id, string? after = null, int limit = 100, bool ascending = false, long maxBytes = StoredPage.DefaultMaxBytes)
    {
        var (page, failure) = await store.ListInputItemsAsync(Projects.Default, id, new ItemQuery(after, limit, ascending, maxBytes), default);
        Assert.Equal(ListFailure.None, failure);
        return page!;
    }

    /// <summary>Every input item of a response, read page by page in the default order (newest first) as a client does, then turned oldest first.</summary>
    public async Task<List<string>> AllInputItemsAsync(string id, int limit = 7)
    {
        var items = new List<string>();
        string? after = null;
        for (var more = true; more;)
        {
            var page = await InputItemsAsync(id, after, limit);
            items.AddRange(page.Items.Select(Text));
            (after, more) = (page.Items.Count > 0 ? page.Items[^1].Id : null, page.HasMore);
        }
        items.Reverse();
        return items;
    }
}
