using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Cairn.Configuration;
using Cairn.Llama;
using Cairn.OpenAI;
using Cairn.Models;

namespace Cairn.Backends.Llama;

/// <summary>
/// A GGUF model run in this process (provider <c>llama</c>), adapted to <see cref="IChatBackend"/>: every
/// choice of a request is one sequence in the engine's continuous batch.
/// </summary>
internal sealed class LlamaBackend(string entry, ModelOptions options, Random random, ILogger<LlamaBackend> logger) : IChatBackend, IDisposable
{
    private LlamaEngine? engine;

    public string Entry => entry;

    /// <summary>The model's id in the model list (the name clients send).</summary>
    public string Model => options.Id!;

    /// <summary>The engine's sequences and tokens now; null until the model is loaded.</summary>
    public LlamaCounts? Counts => engine?.Counts;

    /// <summary>A fingerprint that changes with the model file, as OpenAI's does with the serving configuration.</summary>
    public string? Fingerprint { get; private set; }

    /// <summary>Loads the model; a bad setting becomes an <see cref="OptionsException"/> naming the entry's key.</summary>
    public void Load()
    {
        var path = Path.GetFullPath(options.ModelPath!, Environment.CurrentDirectory);
        try
        {
            engine = LlamaEngine.Load(new LlamaEngineOptions
            {
                ModelPath = path,
                ContextSize = options.ContextSize,
                Threads = options.Threads,
                ParallelSequences = options.ParallelSequences,
                MaxQueue = options.MaxQueue,
                ChatTemplate = options.ChatTemplate,
                BatchSize = Math.Min(512, options.ContextSize),
            }, logger);
        }
        catch (LlamaLoadException e)
        {
            var key = e.Template ? "ChatTemplate" : "ModelPath";
            throw new OptionsException($"{entry}:{key}: {e.Message}");
        }
        var info = new FileInfo(path);
        Fingerprint = "fp_" + System.Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            Encoding.UTF8.GetBytes($"{info.Name}|{info.Length}|{options.ContextSize}|{options.ChatTemplate}")))[..10];
    }

    private LlamaEngine Engine => engine ?? throw new InvalidOperationException("The model is not loaded.");

    public async Task<ChatOutcome> CompleteAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        var plan = LlamaRequest.Plan(request, Engine, options, random);
        var sequences = Start(plan, cancellationToken);
        var choices = new ChatChoice[sequences.Count];
        var tokens = 0;
        for (var i = 0; i < sequences.Count; i++)
        {
            var text = new StringBuilder();
            List<ChatLogprob>? logprobs = request.Logprobs ? [] : null;
            string finish = FinishReasons.Stop;
            string? toolText = null;
            await foreach (var e in sequences[i].Events.ReadAllAsync(cancellationToken))
            {
                if (e.Text is not null)
                {
                    text.Append(e.Text);
                    logprobs?.AddRange(Convert(e.Logprobs));
                }
                if (e.FinishReason is { } reason)
                {
                    finish = reason;
                    tokens += e.CompletionTokens;
                    toolText = e.ToolText;
                }
            }
            var (content, calls, finalFinish) = Finish(text.ToString(), toolText, finish);
            choices[i] = new ChatChoice(i, content, finalFinish, calls, logprobs);
        }
        return new ChatOutcome(request.Model, choices, new ChatUsage(plan.Prompt.Length, tokens), Fingerprint, plan.Seed);
    }

    public Task<ChatStream> StreamAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        var plan = LlamaRequest.Plan(request, Engine, options, random);
        var sequences = Start(plan, cancellationToken);
        return Task.FromResult(new ChatStream(request.Model, Fingerprint, Deltas(plan, sequences, cancellationToken), request.Logprobs, plan.Seed));
    }

    private static async IAsyncEnumerable<ChatDelta> Deltas(LlamaRequest plan, IReadOnlyList<Sequence> sequences, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Choices generate side by side; their pieces are relayed in the order they come.
        var merged = Channel.CreateUnbounded<ChatDelta>(new UnboundedChannelOptions { SingleReader = true });
        var tokens = 0;
        var pumps = sequences.Select((sequence, index) => Task.Run(async () =>
        {
            var text = new StringBuilder();
            await foreach (var e in sequence.Events.ReadAllAsync(cancellationToken))
            {
                if (e.Text is not null)
                {
                    text.Append(e.Text);
                    await merged.Writer.WriteAsync(new ChatDelta(index, e.Text, null, null, Convert(e.Logprobs)), cancellationToken);
                }
                if (e.FinishReason is { } reason)
                {
                    Interlocked.Add(ref tokens, e.CompletionTokens);
                    var (_, calls, finish) = Finish(text.ToString(), e.ToolText, reason);
                    if (calls is not null)
                    {
                        await merged.Writer.WriteAsync(ChatDelta.Calls(index, calls), cancellationToken);
                    }
                    else if (e.ToolText is { Length: > 0 } unparsed)
                    {
                        await merged.Writer.WriteAsync(new ChatDelta(index, unparsed, null, null), cancellationToken);
                    }
                    await merged.Writer.WriteAsync(ChatDelta.Finish(index, finish), cancellationToken);
                }
            }
        }, cancellationToken)).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(
            t => merged.Writer.TryComplete(t.IsCanceled ? new OperationCanceledException(cancellationToken) : t.Exception?.InnerException),
            TaskScheduler.Default);
        await foreach (var delta in merged.Reader.ReadAllAsync(cancellationToken))
        {
            yield return delta;
        }
        // A cancelled answer never ends with totals: what ends with them is stored.
        cancellationToken.ThrowIfCancellationRequested();
        yield return ChatDelta.Totals(new ChatUsage(plan.Prompt.Length, tokens));
    }

    private IReadOnlyList<Sequence> Start(LlamaRequest plan, CancellationToken cancellationToken)
    {
        if (!Engine.TryGenerate(plan.Prompt, plan.Choices, cancellationToken, out var sequences))
        {
            throw new OpenAIException(OpenAIError.Unavailable(
                "The model is busy: every sequence is in use and the queue is full. Retry shortly.") with { RetryAfterSeconds = 1 });
        }
        return sequences;
    }

    /// <summary>The content, tool calls and finish reason of a choice whose answer ended as <paramref name="finish"/>.</summary>
    private static (string? Content, IReadOnlyList<ChatToolCall>? Calls, string Finish) Finish(string text, string? toolText, string finish)
    {
        if (toolText is null)
        {
            return (text, null, finish);
        }
        var calls = ToolCallText.Parse(toolText);
        if (calls.Count == 0)
        {
            // A call cut off by max tokens is returned as the text it is.
            return (text + toolText, null, finish == FinishReasons.ToolCalls ? FinishReasons.Stop : finish);
        }
        return (text.Length == 0 ? null : text, calls, finish == FinishReasons.Length ? FinishReasons.Length : FinishReasons.ToolCalls);
    }

    private static List<ChatLogprob> Convert(IReadOnlyList<TokenLogprob>? entries) =>
        entries is null ? [] : entries.Select(e => new ChatLogprob(e.Token, e.Logprob, e.Bytes, e.TopLogprobs.Select(t => new ChatLogprob(t.Token, t.Logprob, t.Bytes, [])).ToList())).ToList();

    /// <summary>Sequences generating or waiting (for tests and diagnostics).</summary>
    internal int Busy => engine?.Busy ?? 0;

    public void Dispose() => engine?.Dispose();
}
