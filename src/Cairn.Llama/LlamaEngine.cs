using System.Text;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using Microsoft.Extensions.Logging;

namespace Cairn.Llama;

/// <summary>
/// One GGUF model loaded in this process: its tokenizer and chat template, and the scheduler that serves every
/// request for it from one shared context. Knows nothing of HTTP or of OpenAI's wire format.
/// </summary>
internal sealed class LlamaEngine : IDisposable
{
    private readonly LLamaWeights weights;
    private readonly LLamaContext context;
    private readonly LlamaScheduler scheduler;
    private readonly string? templateName;

    private LlamaEngine(LlamaEngineOptions options, LLamaWeights weights, LLamaContext context, string? templateName, ILogger logger)
    {
        Options = options;
        this.weights = weights;
        this.context = context;
        this.templateName = templateName;
        Vocab = new LlamaVocab(weights);
        scheduler = new LlamaScheduler(context, Vocab, options, logger);
    }

    public LlamaEngineOptions Options { get; }

    public LlamaVocab Vocab { get; }

    /// <summary>Tokens one sequence may hold (prompt and answer).</summary>
    public int ContextSize => Options.ContextSize;

    /// <summary>Sequences generating or waiting.</summary>
    public int Busy => scheduler.Load;

    /// <summary>Sequences generating and waiting now, and tokens decoded since the model was loaded.</summary>
    public LlamaCounts Counts => scheduler.Counts;

    /// <summary>
    /// Loads the model, or throws <see cref="LlamaLoadException"/> with one line saying why (missing file, a file
    /// llama.cpp cannot load, an unknown chat template).
    /// </summary>
    public static LlamaEngine Load(LlamaEngineOptions options, ILogger logger)
    {
        LlamaNative.RouteLog(logger);
        if (!File.Exists(options.ModelPath))
        {
            throw new LlamaLoadException($"the model file {options.ModelPath} does not exist.");
        }
        var parameters = new ModelParams(options.ModelPath)
        {
            // llama.cpp divides the context among the sequences; each gets ContextSize.
            ContextSize = (uint)(options.ContextSize * options.ParallelSequences),
            SeqMax = (uint)options.ParallelSequences,
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            GpuLayerCount = 0,
            // One cache stream per sequence: attention then reads only the sequence's own cells, so a sequence's
            // logits are bit for bit the same whatever shares the batch (a unified cache changes them by ~1e-3).
            KVUnified = false,
        };
        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(parameters);
        }
        catch (Exception e) when (e is RuntimeError or InvalidOperationException or IOException)
        {
            throw new LlamaLoadException($"llama.cpp cannot load {options.ModelPath} ({e.Message.Trim()}): is it a GGUF file of an architecture this llama.cpp supports?");
        }
        try
        {
            CheckTemplate(weights, options.ChatTemplate);
            var context = weights.CreateContext(parameters);
            var engine = new LlamaEngine(options, weights, context, options.ChatTemplate, logger);
            LlamaLog.Loaded(logger, options.ModelPath, weights.ParameterCount, options.ContextSize, options.ParallelSequences, options.Threads, options.ChatTemplate ?? "(the model's)");
            return engine;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    private static void CheckTemplate(LLamaWeights weights, string? name)
    {
        try
        {
            var template = name is null ? new LLamaTemplate(weights, strict: true) : new LLamaTemplate(name);
            template.Add("user", "check");
            template.AddAssistant = true;
            _ = template.Apply();
        }
        catch (Exception e) when (e is MissingTemplateException or TemplateNotFoundException)
        {
            throw new LlamaLoadException(name is null
                ? "the model has no chat template llama.cpp recognises; name one of llama.cpp's built-in templates (chatml, llama3, llama2, mistral-v7, phi3, gemma, …) in ChatTemplate."
                : $"'{name}' is not one of llama.cpp's built-in chat templates (chatml, llama3, llama2, mistral-v7, phi3, gemma, deepseek3, …).", template: true);
        }
    }

    /// <summary>The prompt text for a conversation through the chat template, ending where the assistant answers.</summary>
    public string Render(IReadOnlyList<(string Role, string Content)> messages)
    {
        var template = templateName is null ? new LLamaTemplate(weights, strict: true) : new LLamaTemplate(templateName);
        foreach (var (role, content) in messages)
        {
            template.Add(role, content);
        }
        template.AddAssistant = true;
        return Encoding.UTF8.GetString(template.Apply());
    }

    /// <summary>
    /// Starts one sequence per settings entry (the choices of one request) on <paramref name="prompt"/>; false
    /// when the queue is full.
    /// </summary>
    public bool TryGenerate(int[] prompt, IReadOnlyList<SamplingSettings> choices, CancellationToken cancellationToken, out IReadOnlyList<Sequence> sequences)
    {
        var created = choices.Select(s => new Sequence(prompt, s, cancellationToken)).ToList();
        sequences = created;
        return scheduler.TrySubmit(created);
    }

    public void Dispose()
    {
        scheduler.Dispose();
        context.Dispose();
        weights.Dispose();
    }
}

/// <summary>A model that cannot be served; the message is one line for the operator.</summary>
internal sealed class LlamaLoadException(string message, bool template = false) : Exception(message)
{
    /// <summary>Whether the chat template is at fault (not the model file).</summary>
    public bool Template { get; } = template;
}
