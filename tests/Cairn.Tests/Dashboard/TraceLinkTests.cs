using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Cairn.Storage;
using Cairn.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Tests.Dashboard;

/// <summary>
/// A Cairn with tracing on (OTLP to a loopback port where nothing listens: exports fail, harmlessly) and the
/// dashboard linked to a tracing UI by <c>Observability:TraceLink</c>.
/// </summary>
public sealed class TracingCairnServer : CairnServer
{
    public const string TraceLink = "http://tracing.test/trace/{traceId}";

    private readonly int closedPort = ClosedPort();

    protected override string[] ExtraArgs =>
        [$"--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{closedPort}", $"--Observability:TraceLink={TraceLink}"];

    /// <summary>A loopback port that was free a moment ago and that nothing listens on.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>
/// A stored completion or response made in a client's trace (a W3C <c>traceparent</c>) keeps that trace id, and its
/// dashboard page links to the trace in the operator's tracing UI; an object stored without one shows no trace.
/// </summary>
public sealed class TraceLinkTests(TracingCairnServer server, Browser browser) : IClassFixture<TracingCairnServer>, IClassFixture<Browser>
{
    /// <summary>
    /// POSTs a body from a client at work in the trace <paramref name="traceId"/>: its HttpClient sends the W3C
    /// <c>traceparent</c> header naming it (a header set by hand would be replaced by the HttpClient instrumentation
    /// that the server under test registers in this same process). The created object's id.
    /// </summary>
    private async Task<string> CreateInTraceAsync(string path, string json, ActivityTraceId traceId)
    {
        using var client = new Activity("traced client").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
        using var response = await server.PostJsonAsync(path, json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    private async Task AssertLinkedAsync(string pagePath, string traceId)
    {
        var page = await browser.NewPageAsync(server.BaseUrl);
        await page.GotoAsync(pagePath);
        var link = page.Locator("#trace a");

        Assert.Equal(traceId, await link.InnerTextAsync());
        Assert.Equal(TracingCairnServer.TraceLink.Replace("{traceId}", traceId, StringComparison.Ordinal), await link.GetAttributeAsync("href"));
        Assert.Equal(("_blank", "noopener"), (await link.GetAttributeAsync("target"), await link.GetAttributeAsync("rel")));
    }

    [Fact]
    public async Task AStoredCompletion_KeepsTheClientsTraceId_AndItsPageLinksToTheTrace()
    {
        var trace = ActivityTraceId.CreateRandom();
        var traceId = trace.ToHexString();

        var id = await CreateInTraceAsync("/v1/chat/completions", """{"model":"echo","store":true,"messages":[{"role":"user","content":"trace me"}]}""", trace);

        var detail = await server.Services.GetRequiredService<IDashboardStore>().GetAsync(Projects.Default, id, default);
        Assert.Equal(traceId, detail!.TraceId);
        await AssertLinkedAsync($"/dashboard/completions/{id}", traceId);
    }

    [Fact]
    public async Task AStoredResponse_KeepsTheClientsTraceId_AndItsPageLinksToTheTrace()
    {
        var trace = ActivityTraceId.CreateRandom();
        var traceId = trace.ToHexString();

        var id = await CreateInTraceAsync("/v1/responses", """{"model":"echo","input":"trace me"}""", trace);

        var detail = await server.Services.GetRequiredService<IResponseDashboard>().GetAsync(Projects.Default, id, default);
        Assert.Equal(traceId, detail!.TraceId);
        await AssertLinkedAsync($"/dashboard/responses/{id}", traceId);
    }

    [Fact]
    public async Task AnObjectStoredWithoutATraceId_ShowsNoTrace()
    {
        var completion = TraceIdUpgradeTests.Completion(5, null);
        await server.Services.GetRequiredService<ICompletionStore>().AddAsync(completion, default);
        var page = await browser.NewPageAsync(server.BaseUrl);

        await page.GotoAsync($"/dashboard/completions/{completion.Id}");

        Assert.Equal("5 ms", await page.InnerTextAsync("#latency"));
        Assert.Equal(0, await page.Locator("#trace").CountAsync());
    }
}
