using LLama;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Cairn.Llama;

/// <summary>
/// Continuous batching: one thread owns the context and, step after step, decodes one batch holding the next
/// token of every generating sequence and chunks of the prompts of new ones, then samples each sequence from its
/// own logits. Sequences join and leave between steps; those beyond the free slots wait in a bounded queue, and a
/// full queue refuses new work (backpressure). A cancelled sequence leaves at the next step and its cache is freed.
/// </summary>
internal sealed class LlamaScheduler : IDisposable
{
    private readonly LLamaContext context;
    private readonly LlamaVocab vocab;
    private readonly LlamaEngineOptions options;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly Queue<Sequence> waiting = new();
    private readonly Sequence?[] slots;
    private readonly AutoResetEvent wake = new(false);
    private readonly LLamaBatch batch = new();
    private readonly Thread thread;
    private volatile bool stopping;
    private int active;
    private long promptTokens;
    private long generatedTokens;

    public LlamaScheduler(LLamaContext context, LlamaVocab vocab, LlamaEngineOptions options, ILogger logger)
    {
        this.context = context;
        this.vocab = vocab;
        this.options = options;
        this.logger = logger;
        slots = new Sequence?[options.ParallelSequences];
        thread = new Thread(Run) { IsBackground = true, Name = "cairn-llama " + Path.GetFileName(options.ModelPath) };
        thread.Start();
    }

    /// <summary>Sequences generating or waiting right now.</summary>
    public int Load
    {
        get
        {
            lock (gate)
            {
                return active + waiting.Count;
            }
        }
    }

    /// <summary>What the scheduler holds now and has decoded since it started.</summary>
    public LlamaCounts Counts
    {
        get
        {
            lock (gate)
            {
                return new LlamaCounts(active, waiting.Count, Interlocked.Read(ref promptTokens), Interlocked.Read(ref generatedTokens));
            }
        }
    }

    /// <summary>Queues the sequences of one request together, or refuses them all when the queue has no room.</summary>
    public bool TrySubmit(IReadOnlyList<Sequence> sequences)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(stopping, this);
            var free = slots.Length - active;
            if (waiting.Count + sequences.Count > options.MaxQueue + Math.Max(0, free - waiting.Count))
            {
                return false;
            }
            foreach (var sequence in sequences)
            {
                waiting.Enqueue(sequence);
                // A cancelled request wakes the loop, which frees its slot at once even when nothing else runs.
                sequence.Registration = sequence.CancellationToken.UnsafeRegister(static state => ((AutoResetEvent)state!).Set(), wake);
            }
        }
        wake.Set();
        return true;
    }

    private void Run()
    {
        while (!stopping)
        {
            try
            {
                Admit();
                DropCancelled();
                if (!slots.Any(s => s is not null))
                {
                    wake.WaitOne();
                    continue;
                }
                StepOnce();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LlamaLog.LoopFailed(logger, options.ModelPath, e);
                for (var i = 0; i < slots.Length; i++)
                {
                    if (slots[i] is { } sequence)
                    {
                        sequence.Fail(e);
                        Release(i);
                    }
                }
            }
        }
    }

    private void Admit()
    {
        lock (gate)
        {
            for (var i = 0; i < slots.Length && waiting.Count > 0; i++)
            {
                if (slots[i] is not null)
                {
                    continue;
                }
                var sequence = waiting.Dequeue();
                if (sequence.CancellationToken.IsCancellationRequested)
                {
                    sequence.Cancel();
                    sequence.Dispose();
                    i--;
                    continue;
                }
                sequence.Slot = i;
                sequence.Start(vocab);
                slots[i] = sequence;
                active++;
            }
        }
    }

    private void DropCancelled()
    {
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i] is { CancellationToken.IsCancellationRequested: true } sequence)
            {
                sequence.Cancel();
                Release(i);
            }
        }
        lock (gate)
        {
            // Waiting sequences of a cancelled request leave the queue at once, making room for others.
            if (waiting.Any(s => s.CancellationToken.IsCancellationRequested))
            {
                var kept = waiting.Where(s => !s.CancellationToken.IsCancellationRequested).ToList();
                foreach (var gone in waiting.Except(kept))
                {
                    gone.Cancel();
                    gone.Dispose();
                }
                waiting.Clear();
                kept.ForEach(waiting.Enqueue);
            }
        }
    }

    private void StepOnce()
    {
        batch.Clear();
        var budget = options.BatchSize;
        // Generating sequences first: each adds one token, so a long prompt arriving never stalls their answers.
        foreach (var sequence in slots)
        {
            if (sequence is null)
            {
                continue;
            }
            sequence.LogitIndex = -1;
            if (sequence.Pending >= 0)
            {
                sequence.LogitIndex = batch.Add(sequence.Pending, sequence.Position - 1, (LLamaSeqId)sequence.Slot, true);
                budget--;
            }
        }
        foreach (var sequence in slots)
        {
            if (sequence is null || sequence.Fed >= sequence.Prompt.Length || budget <= 0)
            {
                continue;
            }
            var take = Math.Min(budget, sequence.Prompt.Length - sequence.Fed);
            for (var k = 0; k < take; k++)
            {
                var position = sequence.Fed + k;
                var last = position == sequence.Prompt.Length - 1;
                var index = batch.Add(sequence.Prompt[position], position, (LLamaSeqId)sequence.Slot, last);
                if (last)
                {
                    sequence.LogitIndex = index;
                }
            }
            sequence.Fed += take;
            budget -= take;
            Interlocked.Add(ref promptTokens, take);
        }
        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode returned {result}.");
        }
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i] is { LogitIndex: >= 0 } sequence)
            {
                var generated = sequence.Generated;
                sequence.Step(context.NativeHandle.GetLogitsIth(sequence.LogitIndex), vocab, options.ContextSize);
                Interlocked.Add(ref generatedTokens, sequence.Generated - generated);
                if (sequence.Finished)
                {
                    Release(i);
                }
            }
        }
    }

    /// <summary>Frees a slot and the sequence's cache entries.</summary>
    private void Release(int slot)
    {
        var sequence = slots[slot];
        if (sequence is null)
        {
            return;
        }
        context.NativeHandle.MemorySequenceRemove((LLamaSeqId)slot, -1, -1);
        sequence.Dispose();
        lock (gate)
        {
            slots[slot] = null;
            active--;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            stopping = true;
        }
        wake.Set();
        thread.Join();
        var gone = new ObjectDisposedException(nameof(LlamaScheduler));
        foreach (var sequence in slots.Concat(waiting))
        {
            sequence?.Fail(gone);
            sequence?.Dispose();
        }
        wake.Dispose();
    }
}
