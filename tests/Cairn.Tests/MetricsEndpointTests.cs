using System.ClientModel;
using System.Net;
using System.Net.Sockets;
using Cairn.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked for evaluation in OpenAI 2.15.

namespace Cairn.Tests;

/// <summary><c>GET /metrics</c> as Prometheus text: the GenAI series after known traffic, and who may read them.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsEndpointTests
{
    private const string EchoModels = "--Models:0:Id=tele-*";

    private static async Task WithServerAsync(string[] args, Func<CairnServer, Task> test)
    {
        var server = await CairnServer.StartAsync([EchoModels, "--Models:0:Provider=echo", .. args]);
        try
        {
            await test(server);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient http, string? key = null)
    {
        using var request = key is null ? new HttpRequestMessage(HttpMethod.Get, "/metrics") : TestKeys.Request(HttpMethod.Get, "/metrics", key);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task AfterKnownTraffic_RequestCountsAndTokenSums_MatchWhatClientsWereTold()
    {
        await WithServerAsync([], async server =>
        {
            var model = TelemetryStack.LocalModel();
            var chat = server.Chat(model);
            long input = 0, output = 0;
            foreach (var text in new[] { "First", "The second prompt is longer" })
            {
                ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(text)]);
                input += completion.Usage.InputTokenCount;
                output += completion.Usage.OutputTokenCount;
            }
            ChatTokenUsage? streamed = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Third, streamed")]))
            {
                streamed = update.Usage ?? streamed;
            }
            input += streamed!.InputTokenCount;
            output += streamed.OutputTokenCount;
            ResponseResult response = await server.Responses().CreateResponseAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Fourth, a response")]));
            input += response.Usage.InputTokenCount;
            output += response.Usage.OutputTokenCount;

            var metrics = await ScrapeAsync(server.Http);

            var ofModel = ("gen_ai_request_model", model);
            Assert.Equal(4, metrics.Sum("gen_ai_server_request_duration_seconds_count", ofModel));
            Assert.Equal(4, metrics.Sum("gen_ai_server_request_duration_seconds_bucket", ofModel, ("le", "+Inf")));
            Assert.Equal(3, metrics.Sum("gen_ai_server_request_duration_seconds_count", ofModel, ("cairn_api", "chat.completions")));
            Assert.Equal(1, metrics.Sum("gen_ai_server_request_duration_seconds_count", ofModel, ("cairn_api", "responses")));
            Assert.All(metrics.Find("gen_ai_server_request_duration_seconds_count", ofModel), s =>
            {
                Assert.Equal("chat", s["gen_ai_operation_name"]);
                Assert.Equal("cairn", s["gen_ai_provider_name"]);
                Assert.Equal("Default project", s["cairn_project"]);
                Assert.Null(s["error_type"]);
            });
            Assert.Equal(input, metrics.Sum("gen_ai_client_token_usage_sum", ofModel, ("gen_ai_token_type", "input")));
            Assert.Equal(output, metrics.Sum("gen_ai_client_token_usage_sum", ofModel, ("gen_ai_token_type", "output")));
            Assert.Equal(4, metrics.Sum("gen_ai_client_token_usage_count", ofModel, ("gen_ai_token_type", "input")));
            Assert.Equal(1, metrics.Sum("gen_ai_server_time_to_first_token_seconds_count", ofModel));
        });
    }

    [Fact]
    public async Task WithAuthenticationOff_MetricsAreServedToLoopbackRequestsOnly()
    {
        await WithServerAsync([], async server =>
        {
            var metrics = await ScrapeAsync(server.Http);
            using var foreign = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Host = "metrics.example.com" } };
            using var refused = await server.Http.SendAsync(foreign);

            Assert.Contains(metrics.Samples, s => s.Name == "target_info" && s["service_name"] == "cairn");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        });
    }

    [Fact]
    public async Task WithKeysOn_MetricsNeedTheAdminKey()
    {
        var (setting, adminKey) = TestKeys.Admin();
        await WithServerAsync([setting], async server =>
        {
            var projectKey = await TestKeys.CreateAsync(server, adminKey, "telemetry");
            using var anonymous = await server.Http.GetAsync("/metrics");
            using var project = TestKeys.Request(HttpMethod.Get, "/metrics", projectKey);
            using var withProjectKey = await server.Http.SendAsync(project);

            var metrics = await ScrapeAsync(server.Http, key: adminKey);

            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, withProjectKey.StatusCode);
            Assert.Contains(metrics.Samples, s => s.Name == "target_info");
        });
    }

    [Fact]
    public async Task AMetricsUrl_ServesMetricsWithoutAKey_WhileTheApiNeedsOne()
    {
        var (setting, adminKey) = TestKeys.Admin();
        var port = FreePort();
        await WithServerAsync([setting, $"--Observability:MetricsUrl=http://127.0.0.1:{port}/"], async server =>
        {
            var projectKey = await TestKeys.CreateAsync(server, adminKey, "telemetry");
            var model = TelemetryStack.LocalModel();
            var chat = new ChatClient(model, new ApiKeyCredential(projectKey), new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl, "/v1") });
            await chat.CompleteChatAsync([new UserChatMessage("Counted on the side")]);
            using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

            var metrics = await ScrapeAsync(scraper);
            using var main = await server.Http.GetAsync("/metrics");

            Assert.Equal(1, metrics.Sum("gen_ai_server_request_duration_seconds_count", ("gen_ai_request_model", model), ("cairn_project", "telemetry")));
            Assert.Equal(HttpStatusCode.Unauthorized, main.StatusCode);
        });
    }
}
