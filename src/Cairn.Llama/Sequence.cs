using System.Text;
using System.Threading.Channels;

namespace Cairn.Llama;

/// <summary>
/// One answer being generated (a request, or one choice of <c>n</c>): its prompt, its place in the batch, its
/// sampler and stop filter, and the channel its text goes out on. Touched by the scheduling thread only, apart
/// from <see cref="Events"/> and <see cref="CancellationToken"/>.
/// </summary>
internal sealed class Sequence : IDisposable
{
    private readonly Channel<GenerationEvent> events = Channel.CreateUnbounded<GenerationEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Decoder utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly StopFilter filter;
    private readonly StringBuilder toolText = new();
    private readonly char[] chars = new char[256];
    private TokenSampler? sampler;

    public Sequence(int[] prompt, SamplingSettings settings, CancellationToken cancellationToken)
    {
        Prompt = prompt;
        Settings = settings;
        CancellationToken = cancellationToken;
        filter = new StopFilter(settings.Stop, settings.Trigger);
        toolsOnly = settings.ToolCallsOnly;
    }

    private readonly bool toolsOnly;

    private bool InTool => toolsOnly || filter.Triggered;

    public int[] Prompt { get; }

    public SamplingSettings Settings { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The scheduler's wake-up on cancellation; removed when the sequence is done.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    public ChannelReader<GenerationEvent> Events => events.Reader;

    /// <summary>The KV-cache sequence id while it holds a slot, or -1.</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Prompt tokens already decoded.</summary>
    public int Fed { get; set; }

    /// <summary>The token to decode next once the prompt is in (the last one sampled).</summary>
    public int Pending { get; set; } = -1;

    /// <summary>Where this sequence's logits are in the current batch, or -1 when it has none this step.</summary>
    public int LogitIndex { get; set; } = -1;

    public int Generated { get; private set; }

    public int Position => Fed + Generated;

    public bool Finished { get; private set; }

    public void Start(LlamaVocab vocab) => sampler = new TokenSampler(Settings, vocab);

    /// <summary>Samples the next token from this step's logits and reports the text it completes.</summary>
    public void Step(ReadOnlySpan<float> logits, LlamaVocab vocab, int contextSize)
    {
        var (token, logprob) = sampler!.Sample(logits);
        if (token < 0 || vocab.IsEndOfGeneration(token))
        {
            Finish(InTool ? "tool_calls" : "stop");
            return;
        }
        sampler.Accept(token);
        Generated++;
        Pending = token;
        var bytes = vocab.Bytes(token);
        var count = utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush: false);
        var text = new string(chars, 0, count);
        if (InTool)
        {
            toolText.Append(text);
        }
        else
        {
            Send(filter.Push(text, logprob));
            if (filter.Stopped)
            {
                Finish("stop");
                return;
            }
            if (filter.Triggered)
            {
                toolText.Append(filter.TakeRest());
                sampler.Constrain(Settings.TriggerGrammar!);
            }
        }
        if (Generated >= Settings.MaxTokens || Position >= contextSize)
        {
            Finish("length");
        }
    }

    private void Send(List<(string Text, TokenLogprob? Logprob)> released)
    {
        if (released.Count == 0)
        {
            return;
        }
        var text = new StringBuilder();
        List<TokenLogprob>? logprobs = Settings.TopLogprobs is null ? null : [];
        foreach (var (piece, logprob) in released)
        {
            text.Append(piece);
            if (logprob is not null)
            {
                logprobs!.Add(logprob);
            }
        }
        if (text.Length > 0 || logprobs is { Count: > 0 })
        {
            events.Writer.TryWrite(GenerationEvent.Piece(text.ToString(), logprobs));
        }
    }

    private void Finish(string reason)
    {
        if (!filter.Stopped && !InTool)
        {
            Send(filter.Flush());
        }
        var tool = InTool ? toolText.ToString() : null;
        if (InTool && reason == "stop")
        {
            reason = "tool_calls";
        }
        Finished = true;
        events.Writer.TryWrite(GenerationEvent.End(reason, Generated, tool));
        events.Writer.TryComplete();
    }

    /// <summary>Ends the sequence with an error (the scheduler failed, or it was refused).</summary>
    public void Fail(Exception error)
    {
        Finished = true;
        events.Writer.TryComplete(error);
    }

    /// <summary>Ends a sequence whose request was cancelled: nothing more is sent.</summary>
    public void Cancel()
    {
        Finished = true;
        events.Writer.TryComplete(new OperationCanceledException(CancellationToken));
    }

    public void Dispose()
    {
        Registration.Dispose();
        sampler?.Dispose();
    }
}
