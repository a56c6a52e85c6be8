using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cairn.Access;
using Cairn.Commands;
using Cairn.Configuration;
using Cairn.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Cairn.Tests;

/// <summary>
/// A Cairn with authentication on: an admin key (in an environment variable named for this fixture only, so other
/// test servers stay open) and projects and keys made through the admin API.
/// </summary>
public class AccessFixture : IAsyncLifetime
{
    /// <summary>Starts the server under test with these settings (SQLite here; PostgreSQL in the subclass).</summary>
    protected virtual async Task<CairnServer> StartServerAsync(string[] args)
    {
        var server = new CairnServer { MoreArgs = args };
        await server.InitializeAsync();
        return server;
    }

    public string AdminKey { get; } = "admin-" + Guid.NewGuid().ToString("N");

    public CairnServer Cairn { get; private set; } = null!;

    public string KeyA { get; private set; } = null!;

    public string KeyB { get; private set; } = null!;

    /// <summary>A key of project B that may use <c>echo</c> only.</summary>
    public string KeyEchoOnly { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var variable = "CAIRN_TEST_ADMIN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, AdminKey);
        Cairn = await StartServerAsync([$"--Auth:AdminKeyEnv={variable}", "--Models:0:Id=other", "--Models:0:Provider=echo"]);
        KeyA = await CreateKeyAsync("""{"project":"team-a","name":"a"}""");
        KeyB = await CreateKeyAsync("""{"project":"team-b","name":"b"}""");
        KeyEchoOnly = await CreateKeyAsync("""{"project":"team-b","name":"echo only","models":["echo"]}""");
    }

    public async Task<string> CreateKeyAsync(string body)
    {
        using var response = await SendAsync(HttpMethod.Post, "/admin/keys", AdminKey, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["value"]!.GetValue<string>();
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, string? json = null, bool azureHeader = false)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            if (azureHeader)
            {
                request.Headers.Add("api-key", key);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return Cairn.Http.SendAsync(request);
    }

    public ChatClient Chat(string key, string model = "echo") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Cairn.BaseUrl, "/v1") });

    public Task DisposeAsync() => Cairn.DisposeAsync();
}

/// <summary>The same, storing projects, keys and completions in PostgreSQL.</summary>
public sealed class PostgresAccessFixture : AccessFixture
{
    protected override async Task<CairnServer> StartServerAsync(string[] args)
    {
        var server = new PostgresCairnServer { MoreArgs = args };
        await server.InitializeAsync();
        return server;
    }
}

public sealed class AccessTests(AccessFixture fixture) : AccessContract(fixture), IClassFixture<AccessFixture>;

public sealed class AccessPostgresTests(PostgresAccessFixture fixture) : AccessContract(fixture), IClassFixture<PostgresAccessFixture>;

/// <summary>Keys, projects, isolation of stored completions between projects, model limits, rate limits and the admin API.</summary>
public abstract class AccessContract(AccessFixture fixture)
{
    private const string Completions = "/v1/chat/completions";

    private async Task<string> CreateStoredAsync(string key, string run)
    {
        using var response = await fixture.SendAsync(HttpMethod.Post, Completions, key,
            $$"""{"model":"echo","store":true,"metadata":{"run":"{{run}}"},"messages":[{"role":"user","content":"private words of {{run}}"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(HttpMethod method, string path, string key, string? json = null)
    {
        using var response = await fixture.SendAsync(method, path, key, json);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string> Operations => new() { "get", "update", "delete", "messages", "after" };

    private Task<(HttpStatusCode, string)> OperateAsync(string operation, string key, string id) => operation switch
    {
        "get" => CallAsync(HttpMethod.Get, $"{Completions}/{id}", key),
        "update" => CallAsync(HttpMethod.Post, $"{Completions}/{id}", key, """{"metadata":{"taken":"yes"}}"""),
        "delete" => CallAsync(HttpMethod.Delete, $"{Completions}/{id}", key),
        "messages" => CallAsync(HttpMethod.Get, $"{Completions}/{id}/messages", key),
        "after" => CallAsync(HttpMethod.Get, $"{Completions}?after={id}", key),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task AnotherProjectsCompletion_IsAnsweredExactlyAsAnUnknownId_AndIsLeftUntouched(string operation)
    {
        var run = Guid.NewGuid().ToString("N");
        var theirs = await CreateStoredAsync(fixture.KeyB, run);
        var unknown = "chatcmpl-" + new string('x', 29);

        var (otherStatus, otherBody) = await OperateAsync(operation, fixture.KeyA, theirs);
        var (unknownStatus, unknownBody) = await OperateAsync(operation, fixture.KeyA, unknown);
        var (ownerStatus, _) = await OperateAsync(operation, fixture.KeyB, theirs);

        Assert.Equal(unknownStatus, otherStatus);
        Assert.True(otherStatus is HttpStatusCode.NotFound or HttpStatusCode.BadRequest);
        Assert.Equal(unknownBody.Replace(unknown, "ID", StringComparison.Ordinal), otherBody.Replace(theirs, "ID", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, ownerStatus);
        // Still B's, and unchanged by A's attempt (a delete by its owner above is the only change allowed).
        if (operation != "delete")
        {
            var (_, stored) = await CallAsync(HttpMethod.Get, $"{Completions}/{theirs}", fixture.KeyB);
            Assert.Equal(operation == "update" ? "yes" : null, JsonNode.Parse(stored)!["metadata"]!["taken"]?.GetValue<string>());
        }
    }

    [Fact]
    public async Task OwnCompletions_WorkForEveryOperation_AndListsNeverShowAnotherProjects()
    {
        var run = Guid.NewGuid().ToString("N");
        var mine = await CreateStoredAsync(fixture.KeyA, run);
        var theirs = await CreateStoredAsync(fixture.KeyB, run);

        var (_, listA) = await CallAsync(HttpMethod.Get, $"{Completions}?metadata[run]={run}", fixture.KeyA);
        var (_, listB) = await CallAsync(HttpMethod.Get, $"{Completions}?metadata[run]={run}", fixture.KeyB);
        var (_, allA) = await CallAsync(HttpMethod.Get, $"{Completions}?limit=100", fixture.KeyA);
        var (_, modelA) = await CallAsync(HttpMethod.Get, $"{Completions}?model=echo&limit=100", fixture.KeyA);

        Assert.Equal([mine], Ids(listA));
        Assert.Equal([theirs], Ids(listB));
        Assert.DoesNotContain(theirs, Ids(allA));
        Assert.DoesNotContain(theirs, Ids(modelA));
        Assert.Contains(mine, Ids(allA));
        foreach (var operation in (string[])["get", "messages", "after", "update", "delete"])
        {
            var (status, _) = await OperateAsync(operation, fixture.KeyA, mine);
            Assert.Equal(HttpStatusCode.OK, status);
        }
    }

    private async Task<string> CreateResponseAsync(string key, string run)
    {
        using var response = await fixture.SendAsync(HttpMethod.Post, "/v1/responses", key,
            $$"""{"model":"echo","metadata":{"run":"{{run}}"},"input":"private words of {{run}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    public static TheoryData<string> ResponseOperations => new() { "get", "delete", "input_items", "cancel", "previous" };

    private Task<(HttpStatusCode, string)> OperateOnResponseAsync(string operation, string key, string id) => operation switch
    {
        "get" => CallAsync(HttpMethod.Get, $"/v1/responses/{id}", key),
        "delete" => CallAsync(HttpMethod.Delete, $"/v1/responses/{id}", key),
        "input_items" => CallAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items", key),
        "cancel" => CallAsync(HttpMethod.Post, $"/v1/responses/{id}/cancel", key),
        "previous" => CallAsync(HttpMethod.Post, "/v1/responses", key, $$"""{"model":"echo","previous_response_id":"{{id}}","input":"go on"}"""),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    [Theory]
    [MemberData(nameof(ResponseOperations))]
    public async Task AnotherProjectsResponse_IsAnsweredExactlyAsAnUnknownId_AndIsLeftUntouched(string operation)
    {
        var run = Guid.NewGuid().ToString("N");
        var theirs = await CreateResponseAsync(fixture.KeyB, run);
        var unknown = "resp_" + new string('0', 50);

        var (otherStatus, otherBody) = await OperateOnResponseAsync(operation, fixture.KeyA, theirs);
        var (unknownStatus, unknownBody) = await OperateOnResponseAsync(operation, fixture.KeyA, unknown);
        var (ownerStatus, _) = await OperateOnResponseAsync(operation, fixture.KeyB, theirs);

        Assert.Equal(unknownStatus, otherStatus);
        Assert.True(otherStatus is HttpStatusCode.NotFound or HttpStatusCode.BadRequest);
        Assert.Equal(unknownBody.Replace(unknown, "ID", StringComparison.Ordinal), otherBody.Replace(theirs, "ID", StringComparison.Ordinal));
        // The owner can (cancel is refused for every finished response, the owner's too, but not as unknown).
        Assert.Equal(operation == "cancel" ? HttpStatusCode.BadRequest : HttpStatusCode.OK, ownerStatus);
        var (after, _) = await CallAsync(HttpMethod.Get, $"/v1/responses/{theirs}", fixture.KeyB);
        Assert.Equal(operation == "delete" ? HttpStatusCode.NotFound : HttpStatusCode.OK, after);
    }

    private static List<string> Ids(string list) =>
        [.. JsonNode.Parse(list)!["data"]!.AsArray().Select(item => item!["id"]!.GetValue<string>())];

    [Fact]
    public async Task MissingWrongAndRevokedKeys_Get401_InOpenAIsEnvelope_SayingNothingOfWhetherTheKeyExists()
    {
        var revoked = await fixture.CreateKeyAsync("""{"project":"team-a","name":"to revoke"}""");
        using var keys = await fixture.SendAsync(HttpMethod.Get, "/admin/keys?project=team-a", fixture.AdminKey);
        var keyId = JsonNode.Parse(await keys.Content.ReadAsStringAsync())!["data"]!.AsArray()
            .Single(k => k!["name"]!.GetValue<string>() == "to revoke")!["id"]!.GetValue<string>();
        using (var revoke = await fixture.SendAsync(HttpMethod.Delete, $"/admin/keys/{keyId}", fixture.AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        var wrong = "sk-cairn-" + new string('Z', 48);

        using var missing = await fixture.SendAsync(HttpMethod.Get, "/v1/models", null);
        var (wrongStatus, wrongBody) = await CallAsync(HttpMethod.Get, "/v1/models", wrong);
        var (revokedStatus, revokedBody) = await CallAsync(HttpMethod.Get, "/v1/models", revoked);
        var (adminStatus, _) = await CallAsync(HttpMethod.Get, "/v1/models", fixture.AdminKey);
        using var health = await fixture.SendAsync(HttpMethod.Get, "/health", null);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        var missingError = JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["error"]!;
        Assert.StartsWith("You didn't provide an API key.", missingError["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", missingError["type"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongStatus);
        Assert.Equal(HttpStatusCode.Unauthorized, revokedStatus);
        Assert.Equal(HttpStatusCode.Unauthorized, adminStatus);
        var wrongError = JsonNode.Parse(wrongBody)!["error"]!;
        var revokedError = JsonNode.Parse(revokedBody)!["error"]!;
        Assert.Equal("invalid_api_key", wrongError["code"]!.GetValue<string>());
        Assert.Equal("invalid_api_key", revokedError["code"]!.GetValue<string>());
        Assert.StartsWith("Incorrect API key provided: sk-cai", wrongError["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, wrongBody, StringComparison.Ordinal);
        Assert.DoesNotContain(revoked, revokedBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task TheOfficialClient_WorksWithAKey_InBothHeaderForms_AndFailsWithAWrongOne()
    {
        ChatCompletion completion = await fixture.Chat(fixture.KeyA).CompleteChatAsync([new UserChatMessage("hello")]);
        using var azure = await fixture.SendAsync(HttpMethod.Get, "/v1/models", fixture.KeyA, azureHeader: true);
        var error = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat("sk-cairn-nope").CompleteChatAsync([new UserChatMessage("hello")]));

        Assert.Equal("hello", completion.Content[0].Text);
        Assert.Equal(HttpStatusCode.OK, azure.StatusCode);
        Assert.Equal(401, error.Status);
    }

    [Fact]
    public async Task AKeyLimitedToSomeModels_CannotUseOthers_AsIfTheyDidNotExist()
    {
        var (allowedStatus, _) = await CallAsync(HttpMethod.Post, Completions, fixture.KeyEchoOnly, """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""");
        var (deniedStatus, deniedBody) = await CallAsync(HttpMethod.Post, Completions, fixture.KeyEchoOnly, """{"model":"other","messages":[{"role":"user","content":"hi"}]}""");
        var (otherKeyStatus, _) = await CallAsync(HttpMethod.Post, Completions, fixture.KeyB, """{"model":"other","messages":[{"role":"user","content":"hi"}]}""");
        var (_, models) = await CallAsync(HttpMethod.Get, "/v1/models", fixture.KeyEchoOnly);
        var (retrieveStatus, _) = await CallAsync(HttpMethod.Get, "/v1/models/other", fixture.KeyEchoOnly);

        Assert.Equal(HttpStatusCode.OK, allowedStatus);
        Assert.Equal(HttpStatusCode.NotFound, deniedStatus);
        Assert.Equal("model_not_found", JsonNode.Parse(deniedBody)!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, otherKeyStatus);
        Assert.Equal(["echo"], Ids(models));
        Assert.Equal(HttpStatusCode.NotFound, retrieveStatus);
    }

    [Fact]
    public async Task RequestsPerMinute_CountResponsesAndChatCompletionsTogether()
    {
        using (var set = await fixture.SendAsync(HttpMethod.Post, "/admin/projects", fixture.AdminKey, """{"name":"limited-both","requests_per_minute":2}"""))
        {
            Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        }
        var key = await fixture.CreateKeyAsync("""{"project":"limited-both"}""");

        using var chat = await fixture.SendAsync(HttpMethod.Post, Completions, key, """{"model":"echo","messages":[{"role":"user","content":"one"}]}""");
        using var response = await fixture.SendAsync(HttpMethod.Post, "/v1/responses", key, """{"model":"echo","input":"two"}""");
        using var refused = await fixture.SendAsync(HttpMethod.Post, "/v1/responses", key, """{"model":"echo","input":"three"}""");

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limit_exceeded", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task RequestsPerMinute_AreLimitedPerProject_WithOpenAIsHeaders_And429WithRetryAfter()
    {
        using (var set = await fixture.SendAsync(HttpMethod.Post, "/admin/projects", fixture.AdminKey, """{"name":"limited","requests_per_minute":2}"""))
        {
            Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        }
        var key = await fixture.CreateKeyAsync("""{"project":"limited"}""");
        const string Body = """{"model":"echo","messages":[{"role":"user","content":"count me"}]}""";

        using var first = await fixture.SendAsync(HttpMethod.Post, Completions, key, Body);
        using var second = await fixture.SendAsync(HttpMethod.Post, Completions, key, Body);
        using var third = await fixture.SendAsync(HttpMethod.Post, Completions, key, Body);
        using var otherProject = await fixture.SendAsync(HttpMethod.Post, Completions, fixture.KeyA, Body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Matches("^([0-9]+m)?[0-9.]+(ms|s)$", second.Headers.GetValues("x-ratelimit-reset-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        var error = JsonNode.Parse(await third.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("requests", error["type"]!.GetValue<string>());
        Assert.True(int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(HttpStatusCode.OK, otherProject.StatusCode);
        Assert.False(otherProject.Headers.Contains("x-ratelimit-limit-requests"));
    }

    [Fact]
    public async Task TokensPerMinute_CountThePromptUpFront_AndARequestLargerThanTheLimitIs429()
    {
        using (var set = await fixture.SendAsync(HttpMethod.Post, "/admin/projects", fixture.AdminKey, """{"name":"few-tokens","tokens_per_minute":100}"""))
        {
            Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        }
        var key = await fixture.CreateKeyAsync("""{"project":"few-tokens"}""");

        using var small = await fixture.SendAsync(HttpMethod.Post, Completions, key, """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""");
        var huge = string.Join(' ', Enumerable.Repeat("word", 300));
        using var large = await fixture.SendAsync(HttpMethod.Post, Completions, key, $$"""{"model":"echo","messages":[{"role":"user","content":"{{huge}}"}]}""");

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal("100", small.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.True(int.Parse(small.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture) < 100);
        Assert.Equal(HttpStatusCode.TooManyRequests, large.StatusCode);
        Assert.Contains("Request too large", await large.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"project":"bad name!"}""", "project")]
    [InlineData("""{"project":"p","models":[]}""", "models")]
    [InlineData("""{"project":"p","models":[""]}""", "models")]
    [InlineData("""{"project":"p","colour":"red"}""", "colour")]
    [InlineData("""{"name":"no project"}""", "project")]
    public async Task TheAdminApi_RefusesBadInput_NamingTheParameter(string body, string param)
    {
        var (status, response) = await CallAsync(HttpMethod.Post, "/admin/keys", fixture.AdminKey, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, JsonNode.Parse(response)!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheAdminApi_NeedsTheAdminKey_AndListsKeysWithoutTheirSecrets()
    {
        var (projectKeyStatus, _) = await CallAsync(HttpMethod.Get, "/admin/keys", fixture.KeyA);
        var (status, list) = await CallAsync(HttpMethod.Get, "/admin/keys", fixture.AdminKey);
        var (projectsStatus, projects) = await CallAsync(HttpMethod.Get, "/admin/projects", fixture.AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, projectKeyStatus);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(fixture.KeyA, list, StringComparison.Ordinal);
        Assert.DoesNotContain("\"value\"", list, StringComparison.Ordinal);
        Assert.Contains(fixture.KeyA[..12], list, StringComparison.Ordinal); // the redacted form starts like the key
        Assert.Equal(HttpStatusCode.OK, projectsStatus);
        Assert.Contains("team-a", projects, StringComparison.Ordinal);
    }
}

/// <summary>Start-up without keys, the key commands, and what the log never holds.</summary>
public sealed class AccessStartupTests : IDisposable
{
    private readonly TempFolder folder = new();

    [Fact]
    public async Task WithNoKeys_CairnRefusesToListenBeyondLoopback_AndSaysHowToCreateOne()
    {
        var app = CairnApp.Build(["--urls", "http://0.0.0.0:0", "--db", folder.File("open.db")]);
        try
        {
            var error = await Assert.ThrowsAsync<OptionsException>(() => app.StartAsync());
            Assert.Contains("cairn keys create --project NAME", error.Message, StringComparison.Ordinal);
            Assert.Contains("0.0.0.0", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.3.2.1:0", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://192.168.1.10:8080", false)]
    public void LoopbackAddresses_AreTold(string url, bool loopback) => Assert.Equal(loopback, AuthStartup.IsLoopback(url));

    [Fact]
    public async Task TheKeyCommands_CreateListAndRevoke_AndTheServerHonoursThem()
    {
        var db = folder.File("keys.db");
        var (created, secret, _) = await RunAsync("keys", "create", "--project", "cli", "--name", "from the cli", "--models", "echo", "--db", db);
        var (_, projectSet, _) = await RunAsync("projects", "set", "cli", "--rpm", "100", "--db", db);
        var (_, listed, _) = await RunAsync("keys", "list", "--db", db);
        var (badUsage, _, usageErrors) = await RunAsync("keys", "create", "--db", db);

        Assert.Equal(0, created);
        Assert.Matches("^sk-cairn-[0-9A-Za-z]{48}$", secret.Trim());
        Assert.Contains("cli: 100 requests/min", projectSet, StringComparison.Ordinal);
        Assert.Contains("from the cli", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret.Trim(), listed, StringComparison.Ordinal);
        Assert.Equal(2, badUsage);
        Assert.Contains("needs --project", usageErrors, StringComparison.Ordinal);

        using var server = await CairnProcess.StartAsync(db);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", secret.Trim()) } };
        using var ok = await http.SendAsync(withKey);
        using var without = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);

        var keyId = listed.Split('\n')[1].Split(' ')[0];
        var (revoked, _, _) = await RunAsync("keys", "revoke", keyId, "--db", db);
        Assert.Equal(0, revoked);
        await Task.Delay(TimeSpan.FromSeconds(5.5)); // the server's key cache (Auth:CacheSeconds, 5 s)
        using var again = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", secret.Trim()) } };
        using var refused = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task KeysAuthorizationHeadersAndPromptText_NeverReachTheLog_EvenAtDebug()
    {
        var db = folder.File("log.db");
        var (_, secret, _) = await RunAsync("keys", "create", "--project", "logs", "--db", db);
        secret = secret.Trim();
        const string Prompt = "PROMPT-MARKER-7f3a confidential words";
        var wrong = "sk-cairn-WRONGKEY" + new string('Q', 40);

        using (var server = await CairnProcess.StartAsync(db, "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Microsoft.AspNetCore=Debug"))
        {
            using var http = new HttpClient { BaseAddress = server.BaseUrl };
            foreach (var (key, stream) in new[] { (secret, false), (secret, true), (wrong, false) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                {
                    Content = new StringContent($$"""{"model":"echo","store":true,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{Prompt}}"}]}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsStringAsync();
                using var responses = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
                {
                    Content = new StringContent($$"""{"model":"echo","stream":{{(stream ? "true" : "false")}},"input":"{{Prompt}}"}""", Encoding.UTF8, "application/json"),
                };
                responses.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var answered = await http.SendAsync(responses);
                await answered.Content.ReadAsStringAsync();
            }
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(30)));
            var log = server.Output;

            Assert.Contains("dbug:", log, StringComparison.Ordinal); // Debug logging was on
            Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, log, StringComparison.Ordinal);
            Assert.DoesNotContain("PROMPT-MARKER", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Bearer", log, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exit = await AccessCommands.RunAsync(args[0], args[1..], output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    public void Dispose() => folder.Dispose();
}
