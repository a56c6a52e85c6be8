using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cairn.Access;
using Cairn.Models;
using Cairn.Observability;
using Cairn.OpenAI;

namespace Cairn.Completions;

/// <summary>
/// Reports every create the GenAI conventions' way, whichever API it came by and whichever source answers: a span
/// <c>chat {model}</c> under the request's server span, and the server metrics (<c>gen_ai.server.request.duration</c>,
/// <c>gen_ai.server.time_to_first_token</c>, <c>gen_ai.server.time_per_output_token</c>) with
/// <c>gen_ai.client.token.usage</c>, each with the operation, provider, models and Cairn's project (a bounded set:
/// projects are made by the admin). Prompts and answers go on the span only when content capture is on.
/// </summary>
internal sealed class GenAiTelemetry
{
    public GenAiTelemetry(IMeterFactory meters, TimeProvider clock, ObservabilityOptions options)
    {
        Clock = clock;
        CaptureContent = options.CaptureMessageContent;
        var meter = meters.Create(CairnTelemetry.Name, CairnTelemetry.Version);
        Duration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Time from a request's arrival to its last byte.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAi.DurationBuckets });
        TimeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Time from a streamed request's arrival to its first output sent.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAi.DurationBuckets });
        TimePerOutputToken = meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Time per output token after the first, for successful streams.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAi.PerTokenBuckets });
        Tokens = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens read (input) and written (output) per answered request.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = GenAi.TokenBuckets });
    }

    public bool CaptureContent { get; }

    internal Histogram<double> Duration { get; }

    internal Histogram<double> TimeToFirstToken { get; }

    internal Histogram<double> TimePerOutputToken { get; }

    internal Histogram<long> Tokens { get; }

    internal TimeProvider Clock { get; }

    /// <summary>Begins reporting a create once its model is known: the span starts now, the duration counts from the request's arrival.</summary>
    public GenAiRequest Start(HttpContext context, Exchange exchange, string api, ModelCard model, string requestModel) =>
        new(this, context, exchange, api, model.Provider, requestModel);
}

/// <summary>
/// One create as telemetry sees it: its span (null while nobody listens) and what its metrics are recorded with when
/// it ends. Stages say what happened (<see cref="FirstOutput"/>, <see cref="Answered"/>, <see cref="Fail"/>);
/// <see cref="Dispose"/> records the metrics and ends the span.
/// </summary>
internal sealed class GenAiRequest : IDisposable
{
    private readonly GenAiTelemetry telemetry;
    private readonly HttpContext context;
    private readonly Exchange exchange;
    private readonly TagList tags;
    private long? firstOutput;
    private AnswerSummary? answer;
    private string? error;

    internal GenAiRequest(GenAiTelemetry telemetry, HttpContext context, Exchange exchange, string api, string provider, string requestModel)
    {
        this.telemetry = telemetry;
        this.context = context;
        this.exchange = exchange;
        tags = new TagList
        {
            { GenAi.OperationName, GenAi.Chat },
            { GenAi.ProviderName, provider },
            { GenAi.RequestModel, requestModel },
            { CairnTelemetry.ProjectAttribute, exchange.Caller.Grant?.Project.Name ?? Storage.Projects.DefaultName },
            { CairnTelemetry.ApiAttribute, api },
        };
        Activity = CairnTelemetry.Source.StartActivity($"{GenAi.Chat} {requestModel}", ActivityKind.Internal, default(ActivityContext), tags);
    }

    /// <summary>The span, when one is recorded.</summary>
    public Activity? Activity { get; }

    /// <summary>Whether prompts and answers may be put on the span.</summary>
    public bool CapturesContent => telemetry.CaptureContent && Activity is { IsAllDataRequested: true };

    /// <summary>The trace this create belongs to, when its span is recorded (and so exported): kept with what is stored.</summary>
    public string? TraceId => Activity is { Recorded: true } activity ? activity.TraceId.ToHexString() : null;

    /// <summary>Sets the request's parameters the conventions name on the span.</summary>
    public void Parameters(int? maxTokens, double? temperature, double? topP, double? frequencyPenalty = null, double? presencePenalty = null,
        long? seed = null, IReadOnlyList<string>? stop = null, int choices = 1, string? conversationId = null)
    {
        if (Activity is not { IsAllDataRequested: true } activity)
        {
            return;
        }
        if (maxTokens is { } max)
        {
            activity.SetTag(GenAi.MaxTokens, max);
        }
        activity.SetTag(GenAi.Temperature, temperature);
        activity.SetTag(GenAi.TopP, topP);
        activity.SetTag(GenAi.FrequencyPenalty, frequencyPenalty);
        activity.SetTag(GenAi.PresencePenalty, presencePenalty);
        if (seed is { } s)
        {
            activity.SetTag(GenAi.Seed, s);
        }
        if (stop is { Count: > 0 })
        {
            activity.SetTag(GenAi.StopSequences, stop.ToArray());
        }
        if (choices != 1)
        {
            activity.SetTag(GenAi.ChoiceCount, choices);
        }
        activity.SetTag(GenAi.ConversationId, conversationId);
    }

    /// <summary>Puts content on the span (only called when <see cref="CapturesContent"/>): a JSON text in the conventions' attribute.</summary>
    public void Content(string attribute, string json) => Activity?.SetTag(attribute, json);

    /// <summary>A stream's first output went to the client: the time to first token.</summary>
    public void FirstOutput()
    {
        firstOutput ??= telemetry.Clock.GetTimestamp();
    }

    /// <summary>The model answered: its id, model, finish reasons and usage go on the span; tokens are counted when the request ends.</summary>
    public void Answered(string id, AnswerSummary summary)
    {
        answer = summary;
        if (Activity is not { IsAllDataRequested: true } activity)
        {
            return;
        }
        activity.SetTag(GenAi.ResponseId, id);
        activity.SetTag(GenAi.ResponseModel, summary.Model);
        activity.SetTag(GenAi.FinishReasons, summary.FinishReasons.ToArray());
        if (summary.InputTokens is { } input)
        {
            activity.SetTag(GenAi.InputTokens, input);
        }
        if (summary.OutputTokens is { } output)
        {
            activity.SetTag(GenAi.OutputTokens, output);
        }
    }

    /// <summary>
    /// The create failed: <paramref name="errorType"/> is a low-cardinality name (an HTTP status, <c>stream_failed</c>,
    /// <c>cancelled</c>, or an exception's type). The first failure named wins.
    /// </summary>
    public void Fail(string errorType) => error ??= errorType;

    /// <summary>For an exception filter: records how <paramref name="exception"/> failed the create and lets it pass (returns false).</summary>
    public bool Fail(Exception exception)
    {
        Fail(ErrorType(exception));
        return false;
    }

    internal static string ErrorType(Exception exception) => exception switch
    {
        OpenAIException e => e.Error.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ChatRefusedException e => e.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        StreamFailedException => "stream_failed",
        OperationCanceledException => "cancelled",
        _ => exception.GetType().FullName ?? "_OTHER",
    };

    public void Dispose()
    {
        if (answer is null && error is null)
        {
            // Ended without an answer or a failure named: the client left (a stream stops quietly), or Cairn's own fault.
            error = context.RequestAborted.IsCancellationRequested ? "cancelled" : "_OTHER";
        }
        var tags = this.tags;
        if (answer is { } summary)
        {
            tags.Add(GenAi.ResponseModel, summary.Model);
        }
        if (error is not null)
        {
            tags.Add(GenAi.ErrorType, error);
            Activity?.SetTag(GenAi.ErrorType, error);
            Activity?.SetStatus(ActivityStatusCode.Error);
        }
        var now = telemetry.Clock.GetTimestamp();
        telemetry.Duration.Record(telemetry.Clock.GetElapsedTime(exchange.Arrived, now).TotalSeconds, tags);
        if (firstOutput is { } first)
        {
            telemetry.TimeToFirstToken.Record(telemetry.Clock.GetElapsedTime(exchange.Arrived, first).TotalSeconds, tags);
            if (error is null && answer?.OutputTokens is { } outputTokens && outputTokens > 1)
            {
                telemetry.TimePerOutputToken.Record(telemetry.Clock.GetElapsedTime(first, now).TotalSeconds / (outputTokens - 1), tags);
            }
        }
        if (answer is { } counted)
        {
            if (counted.InputTokens is { } input)
            {
                var inputTags = tags;
                inputTags.Add(GenAi.TokenType, "input");
                telemetry.Tokens.Record(input, inputTags);
            }
            if (counted.OutputTokens is { } output)
            {
                var outputTags = tags;
                outputTags.Add(GenAi.TokenType, "output");
                telemetry.Tokens.Record(output, outputTags);
            }
        }
        Activity?.Dispose();
    }
}
