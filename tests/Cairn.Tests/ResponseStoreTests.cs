using Cairn.OpenAI;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Cairn.Tests.Infrastructure.ResponseChains;

namespace Cairn.Tests;

/// <summary>The response store contract on SQLite.</summary>
public sealed class SqliteResponseStoreTests(CairnServer server) : ResponseStoreContract(server), IClassFixture<CairnServer>;

/// <summary>The response store contract on PostgreSQL.</summary>
public sealed class PostgresResponseStoreTests(PostgresCairnServer server) : ResponseStoreContract(server), IClassFixture<PostgresCairnServer>;

/// <summary>
/// What every response store must do, driven through <see cref="IResponseStore"/> of a running server: chains read
/// whole, <c>input_items</c> paging, deletes that keep the later turns' context, projects as walls.
/// </summary>
public abstract class ResponseStoreContract(CairnServer server)
{
    private readonly IResponseStore store = server.Services.GetRequiredService<IResponseStore>();
    private readonly IAccessStore access = server.Services.GetRequiredService<IAccessStore>();
    private readonly ResponseChains chains = new(server.Services.GetRequiredService<IResponseStore>());

    private static string UnknownId => Ids.Response(TimeProvider.System);

    [Fact]
    public async Task Add_ThenGet_ReturnsTheStoredBytes_AndNullForAnUnknownId()
    {
        var turn = await chains.AddAsync(Turn("get", previous: null));

        Assert.Equal(turn.Body, await store.GetAsync(Projects.Default, turn.Id, default));
        Assert.Null(await store.GetAsync(Projects.Default, UnknownId, default));
        Assert.Equal(Expected([turn]), await chains.ContextAsync(turn.Id));
        Assert.Null(await store.GetContextAsync(Projects.Default, UnknownId, default));
    }

    [Fact]
    public async Task AResponseWithoutItems_HasAnEmptyContext_NotAnAbsentOne()
    {
        var turn = await chains.AddAsync(Turn("empty", previous: null, inputs: 0, outputs: 0));

        Assert.Empty((await store.GetContextAsync(Projects.Default, turn.Id, default))!);
        Assert.Empty((await chains.InputItemsAsync(turn.Id)).Items);
    }

    [Fact]
    public async Task AnotherProjectsResponse_IsAbsentFromEveryMethod_AndChainsDoNotCrossProjects()
    {
        var other = await access.EnsureProjectAsync("responses-other-" + Guid.NewGuid().ToString("N")[..8], default);
        var mine = await chains.AddAsync(Turn("mine", previous: null));
        // A response of the other project that names mine as its previous one sees none of it.
        var theirs = await chains.AddAsync(Turn("theirs", previous: mine.Id, projectId: other.Id));

        Assert.Null(await store.GetAsync(other.Id, mine.Id, default));
        Assert.Null(await store.GetContextAsync(other.Id, mine.Id, default));
        Assert.Equal(ListFailure.NotFound, (await store.ListInputItemsAsync(other.Id, mine.Id, new ItemQuery(null, 20, false), default)).Failure);
        Assert.False(await store.DeleteAsync(other.Id, mine.Id, default));
        Assert.Equal(Expected([theirs]), await chains.ContextAsync(theirs.Id, other.Id));

        Assert.True(await store.DeleteAsync(Projects.Default, mine.Id, default));
        Assert.Equal(theirs.Body, await store.GetAsync(other.Id, theirs.Id, default));
        Assert.Equal(Expected([theirs]), await chains.ContextAsync(theirs.Id, other.Id));
    }

    [Fact]
    public async Task ATurnWhosePreviousResponseIsDeletedBeforeItIsStored_KeepsTheChainItWasAnsweredWith()
    {
        var chain = await chains.ChainAsync(2);
        // The create reads the chain, then the response it continues is deleted before the new turn is stored.
        var read = (await store.GetContextAsync(Projects.Default, chain[1].Id, default))!;
        Assert.True(await store.DeleteAsync(Projects.Default, chain[1].Id, default));

        var late = await chains.AddAsync(Turn("late", previous: chain[1].Id) with { ChainRead = read });
        var next = await chains.AddAsync(Turn("next", previous: late.Id));

        Assert.Equal(Expected([.. chain, late]), await chains.ContextAsync(late.Id));
        Assert.Equal(ExpectedInput([.. chain, late]), await chains.AllInputItemsAsync(late.Id));
        Assert.Equal(Expected([.. chain, late, next]), await chains.ContextAsync(next.Id));
        Assert.Equal(late.Body, await store.GetAsync(Projects.Default, late.Id, default));
    }

    [Fact]
    public async Task Context_OfThreeTurns_IsEachTurnsInputThenOutput_OldestFirst()
    {
        var chain = await chains.ChainAsync(3);

        Assert.Equal(Expected(chain), await chains.ContextAsync(chain[2].Id));
        Assert.Equal(Expected(chain[..2]), await chains.ContextAsync(chain[1].Id));
        Assert.Equal(Expected(chain[..1]), await chains.ContextAsync(chain[0].Id));
    }

    [Fact]
    public async Task AChainOfDepth100_IsReadWhole_ContextAndInputItems()
    {
        var chain = await chains.ChainAsync(100);

        Assert.Equal(Expected(chain), await chains.ContextAsync(chain[^1].Id));
        Assert.Equal(ExpectedInput(chain), await chains.AllInputItemsAsync(chain[^1].Id, limit: 20));
        Assert.Equal(ExpectedInput(chain), (await chains.InputItemsAsync(chain[^1].Id, ascending: true, limit: 1000)).Items.Select(Text));
    }

    [Fact]
    public async Task InputItems_AreTheChainThenTheOwnInput_NewestFirst_PagedByItemId()
    {
        var first = await chains.AddAsync(Turn("first", previous: null, inputs: 2, outputs: 1));
        var second = await chains.AddAsync(Turn("second", previous: first.Id, inputs: 3, outputs: 2));
        // Oldest first: first's 2 inputs, its output, then second's 3 inputs (never second's own output).
        var all = ExpectedInput([first, second]);
        var newestFirst = Enumerable.Reverse(all).ToList();

        var top = await chains.InputItemsAsync(second.Id, limit: 2);
        var next = await chains.InputItemsAsync(second.Id, after: top.Items[^1].Id, limit: 3);
        var rest = await chains.InputItemsAsync(second.Id, after: next.Items[^1].Id, limit: 3);
        var ascending = await chains.InputItemsAsync(second.Id, ascending: true, limit: 4);
        var ascendingRest = await chains.InputItemsAsync(second.Id, after: ascending.Items[^1].Id, ascending: true, limit: 4);
        var exact = await chains.InputItemsAsync(second.Id, limit: 6);

        Assert.Equal(6, all.Count);
        Assert.Equal(newestFirst[..2], top.Items.Select(Text));
        Assert.True(top.HasMore);
        Assert.Equal(newestFirst[2..5], next.Items.Select(Text));
        Assert.True(next.HasMore);
        Assert.Equal(newestFirst[5..], rest.Items.Select(Text));
        Assert.False(rest.HasMore);
        Assert.Equal(all[..4], ascending.Items.Select(Text));
        Assert.True(ascending.HasMore);
        Assert.Equal(all[4..], ascendingRest.Items.Select(Text));
        Assert.False(ascendingRest.HasMore);
        Assert.Equal(newestFirst, exact.Items.Select(Text));
        Assert.False(exact.HasMore);
        Assert.Empty((await chains.InputItemsAsync(second.Id, after: first.Input[0].Id)).Items);
    }

    [Fact]
    public async Task InputItems_OfAnAbsentResponse_AreNotFound_AndAnAfterNotAmongThem_IsAnUnknownCursor()
    {
        var first = await chains.AddAsync(Turn("first", previous: null));
        var second = await chains.AddAsync(Turn("second", previous: first.Id));
        var unrelated = await chains.AddAsync(Turn("unrelated", previous: null));

        async Task<ListFailure> FailureAsync(string id, string? after) =>
            (await store.ListInputItemsAsync(Projects.Default, id, new ItemQuery(after, 20, false), default)).Failure;

        Assert.Equal(ListFailure.NotFound, await FailureAsync(UnknownId, null));
        Assert.Equal(ListFailure.NotFound, await FailureAsync(UnknownId, first.Input[0].Id));
        Assert.Equal(ListFailure.UnknownCursor, await FailureAsync(second.Id, "msg_nope"));
        Assert.Equal(ListFailure.UnknownCursor, await FailureAsync(second.Id, second.Output[0].Id));
        Assert.Equal(ListFailure.UnknownCursor, await FailureAsync(second.Id, unrelated.Input[0].Id));
        Assert.Equal(ListFailure.None, await FailureAsync(second.Id, first.Output[0].Id));
    }

    [Fact]
    public async Task InputItems_APageEndsWhereItsBytesWouldPassTheBudget_WithAtLeastOneItem()
    {
        var turn = await chains.AddAsync(Turn("large", previous: null, inputs: 5, padding: 40_000));
        var input = turn.Input.Select(Text).ToList();

        var first = await chains.InputItemsAsync(turn.Id, ascending: true, maxBytes: 100_000);
        var tiny = await chains.InputItemsAsync(turn.Id, ascending: true, maxBytes: 10);
        var rest = await chains.InputItemsAsync(turn.Id, after: first.Items[^1].Id, ascending: true, maxBytes: 100_000);

        Assert.Equal(input[..2], first.Items.Select(Text));
        Assert.True(first.HasMore);
        Assert.Equal(input[..1], tiny.Items.Select(Text));
        Assert.True(tiny.HasMore);
        Assert.Equal(input[2..4], rest.Items.Select(Text));
        Assert.True(rest.HasMore);
    }

    [Fact]
    public async Task DeletingAMiddleResponse_KeepsItsChildsContextAndInputItems_AndItsAncestors()
    {
        var chain = await chains.ChainAsync(4);
        var (a, b, c, d) = (chain[0], chain[1], chain[2], chain[3]);

        Assert.True(await store.DeleteAsync(Projects.Default, b.Id, default));

        Assert.Null(await store.GetAsync(Projects.Default, b.Id, default));
        Assert.Null(await store.GetContextAsync(Projects.Default, b.Id, default));
        Assert.Equal(ListFailure.NotFound, (await store.ListInputItemsAsync(Projects.Default, b.Id, new ItemQuery(null, 20, false), default)).Failure);
        Assert.False(await store.DeleteAsync(Projects.Default, b.Id, default));
        Assert.Equal(c.Body, await store.GetAsync(Projects.Default, c.Id, default));
        Assert.Equal(Expected(chain[..3]), await chains.ContextAsync(c.Id));
        Assert.Equal(ExpectedInput(chain[..3]), await chains.AllInputItemsAsync(c.Id, limit: 2));
        Assert.Equal(Expected(chain), await chains.ContextAsync(d.Id));
        Assert.Equal(ExpectedInput(chain), await chains.AllInputItemsAsync(d.Id));
        Assert.Equal(Expected([a]), await chains.ContextAsync(a.Id));
        // A cursor into what was folded still pages on: before b's output come b's input and all of a.
        Assert.Equal(Enumerable.Reverse(ExpectedInput([a, b])),
            (await chains.InputItemsAsync(c.Id, after: b.Output[0].Id)).Items.Select(Text));
    }

    [Fact]
    public async Task DeletingAResponse_KeepsTheContextOfEachOfItsChildren_AndAFoldedChildCanBeFoldedAgain()
    {
        var chain = await chains.ChainAsync(3);
        var branch = await chains.AddAsync(Turn("branch", previous: chain[1].Id));
        var next = await chains.AddAsync(Turn("next", previous: chain[2].Id));

        Assert.True(await store.DeleteAsync(Projects.Default, chain[0].Id, default));
        Assert.True(await store.DeleteAsync(Projects.Default, chain[1].Id, default));

        Assert.Equal(Expected([.. chain, next]), await chains.ContextAsync(next.Id));
        Assert.Equal(Expected([chain[0], chain[1], branch]), await chains.ContextAsync(branch.Id));
        Assert.Equal(Expected(chain), await chains.ContextAsync(chain[2].Id));

        Assert.True(await store.DeleteAsync(Projects.Default, chain[2].Id, default));

        Assert.Equal(Expected([.. chain, next]), await chains.ContextAsync(next.Id));
        Assert.Equal(ExpectedInput([.. chain, next]), await chains.AllInputItemsAsync(next.Id));
    }

    [Fact]
    public async Task DeletingALeaf_LeavesItsChainAsItWas()
    {
        var chain = await chains.ChainAsync(3);

        Assert.True(await store.DeleteAsync(Projects.Default, chain[2].Id, default));

        Assert.Null(await store.GetAsync(Projects.Default, chain[2].Id, default));
        Assert.Equal(Expected(chain[..2]), await chains.ContextAsync(chain[1].Id));
        Assert.Equal(ExpectedInput(chain[..2]), await chains.AllInputItemsAsync(chain[1].Id));
    }

    [Fact]
    public async Task ConcurrentDeletesAlongOneChain_LeaveItsLastTurnWhole()
    {
        var chain = await chains.ChainAsync(12);
        var last = chain[^1];

        await Task.WhenAll(chain.SkipLast(1).Select(t => store.DeleteAsync(Projects.Default, t.Id, default)));

        Assert.Equal(Expected(chain), await chains.ContextAsync(last.Id));
        Assert.Equal(ExpectedInput(chain), await chains.AllInputItemsAsync(last.Id));
    }
}
