namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A Cairn on SQLite with a fake upstream behind the model <c>tool-caller</c> (which answers with two tool calls),
/// so that exports see proxied completions as well as the built-in model's.
/// </summary>
public class ExportFixture : IAsyncLifetime
{
    public const string ToolModel = "tool-caller";

    public FakeUpstream Upstream { get; } = new();

    public CairnServer Cairn { get; private set; } = null!;

    /// <summary>The settings that route <see cref="ToolModel"/> to the fake upstream.</summary>
    public string[] ModelArgs => ["--Models:0:Id=" + ToolModel, "--Models:0:Provider=openai", $"--Models:0:BaseUrl={Upstream.BaseUrl.ToString().TrimEnd('/')}/v1",
        "--Models:0:UpstreamModel=tools-export", "--Models:0:MaxRetries=0"];

    /// <summary>A fresh, empty server on the same kind of store.</summary>
    public virtual CairnServer NewServer() => new() { MoreArgs = ModelArgs };

    public async Task InitializeAsync()
    {
        await Upstream.InitializeAsync();
        Cairn = NewServer();
        await Cairn.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Cairn.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>The same on PostgreSQL.</summary>
public sealed class PostgresExportFixture : ExportFixture
{
    public override CairnServer NewServer() => new PostgresCairnServer { MoreArgs = ModelArgs };
}
