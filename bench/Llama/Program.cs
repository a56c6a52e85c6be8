using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cairn.Tests.Infrastructure;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;

// Tokens per second of one tiny random GGUF model: raw LLamaSharp (one context, a sampling pipeline, a token at a
// time), then through Cairn on 127.0.0.1 with 1, 4 and 8 concurrent requests. Every answer is made the same length
// by banning the end tokens with logit_bias, so the counts compare. Bounded: a few seconds per point.
const int Tokens = 200;
const int Rounds = 4;
const int Trials = 3;
var folder = Directory.CreateTempSubdirectory("cairn-bench-llama-").FullName;
var model = Path.Combine(folder, "random.gguf");
GgufWriter.WriteRandom(model);

NativeLibraryConfig.All.WithLogCallback((_, _) => { });
var cairn = StartCairn(model, folder);
try
{
    using var http = new HttpClient { BaseAddress = await cairn.Listening, Timeout = TimeSpan.FromMinutes(5) };
    await CompleteAsync(http, 0); // warm
    // The points are interleaved and each is the best of its trials, so that load from elsewhere on a shared
    // machine (which comes and goes) weighs on all of them alike.
    var best = new Dictionary<string, double>();
    for (var trial = 0; trial < Trials; trial++)
    {
        Keep(best, "raw", RawTokensPerSecond(model));
        foreach (var concurrency in new[] { 1, 4, 8 })
        {
            Keep(best, concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), await CairnTokensPerSecondAsync(http, concurrency));
        }
    }
    Console.WriteLine($"raw LLamaSharp, 1 sequence:  {best["raw"],6:F0} tokens/s");
    foreach (var concurrency in new[] { "1", "4", "8" })
    {
        Console.WriteLine($"Cairn, {concurrency} concurrent:     {best[concurrency],6:F0} tokens/s aggregate");
    }
    Console.WriteLine($"Cairn / raw at 1: {best["1"] / best["raw"]:P0}; 4 vs 1: {best["4"] / best["1"]:F2}x; 8 vs 1: {best["8"] / best["1"]:F2}x");
}
finally
{
    cairn.Process.Kill(entireProcessTree: true);
    Directory.Delete(folder, recursive: true);
}

static void Keep(Dictionary<string, double> best, string key, double value) => best[key] = Math.Max(best.GetValueOrDefault(key), value);

static async Task<double> CairnTokensPerSecondAsync(HttpClient http, int concurrency)
{
    var clock = Stopwatch.StartNew();
    var produced = 0;
    for (var round = 0; round < Rounds; round++)
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(i => CompleteAsync(http, round * 100 + i)));
        produced += counts.Sum();
    }
    return produced / clock.Elapsed.TotalSeconds;
}

static double RawTokensPerSecond(string path)
{
    var parameters = new ModelParams(path) { ContextSize = 1024, Threads = 1, BatchThreads = 1 };
    using var weights = LLamaWeights.LoadFromFile(parameters);
    using var context = weights.CreateContext(parameters);
    var prompt = context.Tokenize("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", false, true);
    var total = 0;
    var clock = new Stopwatch();
    for (var round = 0; round <= Rounds; round++)
    {
        context.NativeHandle.MemorySequenceRemove(LLamaSeqId.Zero, -1, -1);
        using var pipeline = new DefaultSamplingPipeline { Seed = (uint)round, LogitBias = new Dictionary<LLamaToken, float> { [263] = -100, [264] = -100, [265] = -100 } };
        var batch = new LLamaBatch();
        if (round == 1)
        {
            clock.Start(); // round 0 warms up
        }
        batch.AddRange(prompt, 0, LLamaSeqId.Zero, true);
        context.NativeHandle.Decode(batch);
        var position = prompt.Length;
        for (var i = 0; i < Tokens; i++)
        {
            var token = pipeline.Sample(context.NativeHandle, batch.TokenCount - 1);
            pipeline.Accept(token);
            batch.Clear();
            batch.Add(token, position++, LLamaSeqId.Zero, true);
            context.NativeHandle.Decode(batch);
            if (round > 0)
            {
                total++;
            }
        }
    }
    return total / clock.Elapsed.TotalSeconds;
}

static async Task<int> CompleteAsync(HttpClient http, int seed)
{
    var body = $$"""{"model":"bench","seed":{{seed}},"max_tokens":{{Tokens}},"logit_bias":{"263":-100,"264":-100,"265":-100},"messages":[{"role":"user","content":"Hi"}]}""";
    using var content = new StringContent(body, Encoding.UTF8);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    using var response = await http.PostAsync("/v1/chat/completions", content);
    response.EnsureSuccessStatusCode();
    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    return json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
}

static (Process Process, Task<Uri> Listening) StartCairn(string model, string folder)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Cairn.dll"), "--urls", "http://127.0.0.1:0", "--db", Path.Combine(folder, "cairn.db"),
        "--Models:0:Id=bench", "--Models:0:Provider=llama", $"--Models:0:ModelPath={model}", "--Models:0:Threads=1",
        "--Models:0:ContextSize=1024", "--Models:0:ParallelSequences=8", "--Logging:LogLevel:Default=Information"])
    {
        start.ArgumentList.Add(arg);
    }
    var process = Process.Start(start)!;
    var listening = new TaskCompletionSource<Uri>();
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data is { } line && line.Contains("Now listening on: ", StringComparison.Ordinal))
        {
            listening.TrySetResult(new Uri(line[(line.IndexOf("http", StringComparison.Ordinal))..].Trim()));
        }
    };
    process.BeginOutputReadLine();
    return (process, listening.Task);
}
