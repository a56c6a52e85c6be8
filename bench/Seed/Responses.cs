using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

/// <summary>
/// Stored responses in the shape Cairn stores them (Storage/Sqlite/SqliteResponseStore.cs): conversations of 1 to 10
/// turns (5.5 on average), a thousand open at a time and interleaved, each turn continuing the last by
/// <c>previous_response_id</c>. A turn has the conversation's instructions, one ~1 KB user message as its input item
/// and echo's answer (the same text) as its output item, and metadata tenant, user and batch as completions have.
/// Only what the API reads is written: the dashboard's rows of a response (<c>response_previews</c>,
/// <c>response_metadata</c>) are not, so the dashboard lists seeded responses without previews or metadata filters.
/// </summary>
internal static class Responses
{
    private const int OpenConversations = 1000;
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A conversation in progress: the turn the next one continues, and what the turns so far carried.</summary>
    private sealed record Conversation(string? Last, int TurnsLeft, int ContextTokens, string Tenant, string User, Text Instructions);

    public static void Seed(SqliteConnection connection, Args options, Texts texts, Random random, Stopwatch stopwatch)
    {
        if (Sql.Long(connection, "PRAGMA user_version") < 5)
        {
            Sql.Fail($"{options.Db} has no response tables: start Cairn once on it first (after seeding completions, too).");
        }
        if (Sql.Long(connection, "SELECT count(*) FROM responses") != 0)
        {
            Sql.Fail($"{options.Db} already holds responses; seed them once.");
        }
        BulkLoad.Begin(connection);

        var nowMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var step = Math.Max(1, 30L * 24 * 3600 * 1000 / options.Responses);
        var firstMillis = nowMillis - (step * options.Responses);

        using var insert = Sql.Prepare(connection, """
            INSERT INTO responses(seq, id, project_id, model, created_at, previous_response_id, status, input_tokens, output_tokens,
                request_id, latency_ms, metadata, body)
            VALUES ($seq, $id, 1, 'echo', $created, $previous, 'completed', $inputTokens, $outputTokens, $request, $latency, $metadata, $body)
            """, "$seq", "$id", "$created", "$previous", "$inputTokens", "$outputTokens", "$request", "$latency", "$metadata", "$body");
        using var items = Sql.Prepare(connection,
            "INSERT INTO response_items(seq, position, kind, id, body) VALUES ($seq, 0, 'input', $inId, $in), ($seq, 1, 'output', $outId, $out)",
            "$seq", "$inId", "$in", "$outId", "$out");

        var open = new Conversation?[OpenConversations];
        var ids = new string[options.Responses];
        var buffer = new ArrayBufferWriter<byte>(4096);
        var continued = 0;
        SqliteTransaction? transaction = null;
        for (var i = 0; i < options.Responses; i++)
        {
            if (i % BulkLoad.PerTransaction == 0)
            {
                transaction?.Commit();
                transaction?.Dispose();
                transaction = connection.BeginTransaction();
                insert.Transaction = items.Transaction = transaction;
                if (i > 0)
                {
                    Console.Error.Write($"\rseed: {i:N0} / {options.Responses:N0} ({stopwatch.Elapsed.TotalSeconds:F0} s)");
                }
            }
            var slot = random.Next(OpenConversations);
            var conversation = open[slot] is { TurnsLeft: > 0 } going ? going : new Conversation(null, 1 + random.Next(10), 0,
                "t" + random.Next(10).ToString(CultureInfo.InvariantCulture), "u" + random.Next(10_000).ToString(CultureInfo.InvariantCulture),
                texts.System[random.Next(texts.System.Length)]);
            var millis = firstMillis + (i * step);
            var prefix = millis.ToString("x16", CultureInfo.InvariantCulture);
            var id = "resp_" + prefix + Hex(random, 17);
            var inputId = "msg_" + prefix + Hex(random, 17);
            var outputId = "msg_" + prefix + Hex(random, 17);
            ids[i] = id;
            var prompt = texts.User[random.Next(texts.User.Length)];
            var batch = "b" + (i / 1000).ToString(CultureInfo.InvariantCulture);
            var inputTokens = conversation.Instructions.Tokens + conversation.ContextTokens + prompt.Tokens + 14;
            var metadata = $"{{\"tenant\":\"{conversation.Tenant}\",\"user\":\"{conversation.User}\",\"batch\":\"{batch}\"}}";

            insert.Parameters[0].Value = i + 1L;
            insert.Parameters[1].Value = id;
            insert.Parameters[2].Value = millis / 1000;
            insert.Parameters[3].Value = (object?)conversation.Last ?? DBNull.Value;
            insert.Parameters[4].Value = inputTokens;
            insert.Parameters[5].Value = prompt.Tokens;
            insert.Parameters[6].Value = "req_" + Hex(random, 16);
            insert.Parameters[7].Value = 1 + random.Next(40);
            insert.Parameters[8].Value = metadata;
            insert.Parameters[9].Value = Body(buffer, id, millis / 1000, conversation, outputId, prompt, inputTokens, batch);
            insert.ExecuteNonQuery();

            items.Parameters[0].Value = i + 1L;
            items.Parameters[1].Value = inputId;
            items.Parameters[2].Value = Item(buffer, inputId, "user", "input_text", prompt.Value);
            items.Parameters[3].Value = outputId;
            items.Parameters[4].Value = Item(buffer, outputId, "assistant", "output_text", prompt.Value);
            items.ExecuteNonQuery();

            continued += conversation.Last is null ? 0 : 1;
            open[slot] = conversation with { Last = id, TurnsLeft = conversation.TurnsLeft - 1, ContextTokens = conversation.ContextTokens + (2 * prompt.Tokens) };
        }
        transaction?.Commit();
        transaction?.Dispose();
        Console.Error.WriteLine($"\rseed: {options.Responses:N0} responses inserted in {stopwatch.Elapsed.TotalSeconds:F1} s, {continued:N0} of them continuing another");
        BulkLoad.End(connection, stopwatch);

        Directory.CreateDirectory(options.Out);
        var sample = Math.Min(options.Sample, options.Responses);
        File.WriteAllLines(Path.Combine(options.Out, "response-ids.txt"), Enumerable.Range(0, sample).Select(_ => ids[random.Next(ids.Length)]));
    }

    private static string Hex(Random random, int bytes)
    {
        Span<byte> value = stackalloc byte[bytes];
        random.NextBytes(value);
        return Convert.ToHexStringLower(value);
    }

    /// <summary>The response object as Cairn stores it: every field OpenAI's has, in its order.</summary>
    private static byte[] Body(ArrayBufferWriter<byte> buffer, string id, long created, Conversation conversation, string outputId, Text prompt, int inputTokens, string batch)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("object"u8, "response"u8);
            writer.WriteNumber("created_at"u8, created);
            writer.WriteString("status"u8, "completed"u8);
            writer.WriteBoolean("background"u8, false);
            writer.WriteNumber("completed_at"u8, created);
            writer.WriteNull("error"u8);
            Raw(writer, "frequency_penalty"u8, "0.0"u8);
            writer.WriteNull("incomplete_details"u8);
            writer.WriteString("instructions"u8, conversation.Instructions.Value);
            writer.WriteNull("max_output_tokens"u8);
            writer.WriteNull("max_tool_calls"u8);
            writer.WriteString("model"u8, "echo"u8);
            writer.WriteNull("moderation"u8);
            writer.WriteStartArray("output"u8);
            writer.WriteRawValue(Item(new ArrayBufferWriter<byte>(prompt.Value.Length + 256), outputId, "assistant", "output_text", prompt.Value), skipInputValidation: true);
            writer.WriteEndArray();
            writer.WriteBoolean("parallel_tool_calls"u8, true);
            Raw(writer, "presence_penalty"u8, "0.0"u8);
            if (conversation.Last is { } previous)
            {
                writer.WriteString("previous_response_id"u8, previous);
            }
            else
            {
                writer.WriteNull("previous_response_id"u8);
            }
            writer.WriteNull("prompt_cache_key"u8);
            writer.WriteNull("prompt_cache_retention"u8);
            writer.WriteStartObject("reasoning"u8);
            writer.WriteNull("context"u8);
            writer.WriteNull("effort"u8);
            writer.WriteNull("summary"u8);
            writer.WriteEndObject();
            writer.WriteNull("safety_identifier"u8);
            writer.WriteString("service_tier"u8, "default"u8);
            writer.WriteBoolean("store"u8, true);
            Raw(writer, "temperature"u8, "1.0"u8);
            writer.WriteStartObject("text"u8);
            writer.WriteStartObject("format"u8);
            writer.WriteString("type"u8, "text"u8);
            writer.WriteEndObject();
            writer.WriteString("verbosity"u8, "medium"u8);
            writer.WriteEndObject();
            writer.WriteString("tool_choice"u8, "auto"u8);
            writer.WriteStartArray("tools"u8);
            writer.WriteEndArray();
            writer.WriteNumber("top_logprobs"u8, 0);
            Raw(writer, "top_p"u8, "1.0"u8);
            writer.WriteString("truncation"u8, "disabled"u8);
            writer.WriteStartObject("usage"u8);
            writer.WriteNumber("input_tokens"u8, inputTokens);
            writer.WriteStartObject("input_tokens_details"u8);
            writer.WriteNumber("cached_tokens"u8, 0);
            writer.WriteEndObject();
            writer.WriteNumber("output_tokens"u8, prompt.Tokens);
            writer.WriteStartObject("output_tokens_details"u8);
            writer.WriteNumber("reasoning_tokens"u8, 0);
            writer.WriteEndObject();
            writer.WriteNumber("total_tokens"u8, inputTokens + prompt.Tokens);
            writer.WriteEndObject();
            writer.WriteNull("user"u8);
            writer.WriteStartObject("metadata"u8);
            writer.WriteString("tenant"u8, conversation.Tenant);
            writer.WriteString("user"u8, conversation.User);
            writer.WriteString("batch"u8, batch);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A message item as input_items lists it: a user's <c>input_text</c> or the answer's <c>output_text</c>.</summary>
    private static byte[] Item(ArrayBufferWriter<byte> buffer, string id, string role, string partType, string text)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, id);
            writer.WriteString("type"u8, "message"u8);
            writer.WriteString("status"u8, "completed"u8);
            writer.WriteStartArray("content"u8);
            writer.WriteStartObject();
            writer.WriteString("type"u8, partType);
            if (partType == "output_text")
            {
                writer.WriteStartArray("annotations"u8);
                writer.WriteEndArray();
                writer.WriteStartArray("logprobs"u8);
                writer.WriteEndArray();
            }
            writer.WriteString("text"u8, text);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteString("role"u8, role);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Raw(Utf8JsonWriter writer, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        writer.WritePropertyName(name);
        writer.WriteRawValue(value, skipInputValidation: true);
    }
}
