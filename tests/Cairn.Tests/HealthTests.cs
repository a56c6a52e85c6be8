using System.Net;
using Cairn.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cairn.Tests;

/// <summary><c>/health</c> (ASP.NET Core health checks with a store check): its bodies and status codes.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    private readonly CairnServer server = new();

    public Task InitializeAsync() => server.InitializeAsync();

    public Task DisposeAsync() => server.DisposeAsync();

    [Fact]
    public async Task Health_Is200_WhileTheStoreAnswers_And503_WhenItDoesNot_AndGetOnly()
    {
        using var ok = await server.Http.GetAsync("/health");
        using var post = await server.Http.PostAsync("/health", null);
        SetSchemaVersion(999); // a store this Cairn cannot read: the check's query no longer answers as expected
        using var down = await server.Http.GetAsync("/health");
        SetSchemaVersion(null);
        using var back = await server.Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("application/json", ok.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"ok"}""", await ok.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("""{"status":"unavailable","reason":"the store does not answer"}""", await down.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    private int? saved;

    private void SetSchemaVersion(int? version)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = server.DatabasePath, Pooling = false }.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        if (version is null)
        {
            command.CommandText = $"PRAGMA user_version = {saved}";
        }
        else
        {
            command.CommandText = "PRAGMA user_version";
            saved = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            command.CommandText = $"PRAGMA user_version = {version}";
        }
        command.ExecuteNonQuery();
    }
}
