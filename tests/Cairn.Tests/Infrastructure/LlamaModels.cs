namespace Cairn.Tests.Infrastructure;

/// <summary>
/// A Cairn with two tiny local models written by <see cref="GgufWriter"/>: <c>scripted</c> (answers exactly
/// <see cref="GgufWriter.ScriptedAnswer"/>), <c>random</c> (random weights: random text, fixed per seed) and
/// <c>tool-caller</c> (says "OK", then writes <c>&lt;tool_call&gt;</c>).
/// </summary>
public class LlamaModels : IAsyncLifetime
{
    private readonly TempFolder folder = new();

    public CairnServer Server { get; private set; } = null!;

    public string ScriptedPath => folder.File("scripted.gguf");

    public string RandomPath => folder.File("random.gguf");

    public string ToolCallingPath => folder.File("tools.gguf");

    public const int ContextSize = 1024;

    public async Task InitializeAsync()
    {
        GgufWriter.WriteScripted(ScriptedPath);
        GgufWriter.WriteRandom(RandomPath);
        GgufWriter.WriteScripted(ToolCallingPath, GgufWriter.ToolCallingPieces);
        Server = CreateServer([.. Entry(0, "scripted", ScriptedPath), .. Entry(1, "random", RandomPath), .. Entry(2, "tool-caller", ToolCallingPath)]);
        await Server.InitializeAsync();
    }

    /// <summary>The server, on SQLite here; <see cref="LlamaModelsOnPostgres"/> stores in PostgreSQL.</summary>
    protected virtual CairnServer CreateServer(string[] args) => new() { MoreArgs = args };

    public static string[] Entry(int index, string id, string path, int parallel = 4) =>
    [
        $"--Models:{index}:Id={id}", $"--Models:{index}:Provider=llama", $"--Models:{index}:ModelPath={path}",
        $"--Models:{index}:Threads=1", $"--Models:{index}:ContextSize={ContextSize}", $"--Models:{index}:ParallelSequences={parallel}",
    ];

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        folder.Dispose();
    }
}

/// <summary>The same models with Cairn storing in PostgreSQL.</summary>
public sealed class LlamaModelsOnPostgres : LlamaModels
{
    protected override CairnServer CreateServer(string[] args) => new PostgresCairnServer { MoreArgs = args };
}
