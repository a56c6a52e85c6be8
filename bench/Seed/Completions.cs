using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

/// <summary>
/// Stored completions in the shape Cairn stores them (OpenAI/StoredCompletionWriter.cs): each a system and a ~1 KB user
/// message (echo answers the user message, so the reply is ~1 KB too), metadata tenant (10 values, unselective), user
/// (10,000 values, selective), batch (1 per 1,000 rows).
/// </summary>
internal static class Completions
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Seed(SqliteConnection connection, Args options, Texts texts, Random random, Stopwatch stopwatch)
    {
        if (Sql.Long(connection, "SELECT count(*) FROM completions") != 0)
        {
            Sql.Fail($"{options.Db} already holds completions; seed an empty store.");
        }
        var version = Sql.Long(connection, "PRAGMA user_version");
        // Migration 3 (the dashboard) keeps a preview, search words and an hourly rollup for every completion, written
        // by Cairn beside each store. Rows inserted here have none, so the store goes back to version 2 and Cairn's own
        // migration 3 fills them for the seeded rows at its next start (bench/run starts it once for that), as it does
        // for a real store upgraded with completions in it: the scenarios then run on a store whose every table is full.
        // What later migrations made goes too (they run again after 3), all empty: the response tables of migration 5,
        // the responses' dashboard rows of migration 6, the tombstones of migration 7 (its trigger goes with responses).
        // Migration 3 builds the search index inside the store, and migration 10 moves it into the store's -search file.
        if (version >= 5)
        {
            if (Sql.Long(connection, "SELECT count(*) FROM responses") != 0)
            {
                Sql.Fail($"{options.Db} already holds responses; seed completions on an empty store, then responses.");
            }
            Sql.Exec(connection, """
                DROP TABLE response_items; DROP TABLE responses; DROP TABLE IF EXISTS response_metadata;
                DROP TABLE IF EXISTS response_previews; DROP TABLE IF EXISTS deleted_responses
                """);
        }
        if (version >= 3)
        {
            Sql.Exec(connection, """
                DROP TABLE completion_previews; DROP TABLE IF EXISTS completion_search; DROP TABLE completion_rollup;
                DROP TABLE IF EXISTS completion_search_pending; PRAGMA user_version = 2
                """);
        }
        BulkLoad.Begin(connection);

        var nowMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Spread over the last 30 days, in storage order, with strictly increasing times (ids sort like Cairn's).
        var step = Math.Max(1, 30L * 24 * 3600 * 1000 / options.Count);
        var firstMillis = nowMillis - (step * options.Count);

        using var insert = Sql.Prepare(connection,
            "INSERT INTO completions(seq, id, project_id, model, created, metadata, body) VALUES ($seq, $id, 1, 'echo', $created, $metadata, $body)",
            "$seq", "$id", "$created", "$metadata", "$body");
        using var metadata = Sql.Prepare(connection,
            "INSERT INTO completion_metadata(project_id, key, value, seq) VALUES (1, 'tenant', $t, $seq), (1, 'user', $u, $seq), (1, 'batch', $b, $seq)",
            "$t", "$u", "$b", "$seq");
        using var messages = Sql.Prepare(connection,
            "INSERT INTO completion_messages(seq, idx, body) VALUES ($seq, 0, $m0), ($seq, 1, $m1)",
            "$seq", "$m0", "$m1");

        var ids = new string[options.Count];
        var buffer = new ArrayBufferWriter<byte>(4096);
        SqliteTransaction? transaction = null;
        for (var i = 0; i < options.Count; i++)
        {
            if (i % BulkLoad.PerTransaction == 0)
            {
                transaction?.Commit();
                transaction?.Dispose();
                transaction = connection.BeginTransaction();
                insert.Transaction = metadata.Transaction = messages.Transaction = transaction;
                if (i > 0)
                {
                    Console.Error.Write($"\rseed: {i:N0} / {options.Count:N0} ({stopwatch.Elapsed.TotalSeconds:F0} s)");
                }
            }
            var seq = i + 1L;
            var millis = firstMillis + (i * step);
            var id = Ids.Completion(millis, random);
            ids[i] = id;
            var tenant = "t" + random.Next(10).ToString(CultureInfo.InvariantCulture);
            var user = "u" + random.Next(10_000).ToString(CultureInfo.InvariantCulture);
            var batch = "b" + (i / 1000).ToString(CultureInfo.InvariantCulture);
            var system = texts.System[i % texts.System.Length];
            var prompt = texts.User[random.Next(texts.User.Length)];

            insert.Parameters[0].Value = seq;
            insert.Parameters[1].Value = id;
            insert.Parameters[2].Value = millis / 1000;
            insert.Parameters[3].Value = $"{{\"tenant\":\"{tenant}\",\"user\":\"{user}\",\"batch\":\"{batch}\"}}";
            insert.Parameters[4].Value = Body(buffer, random, id, millis / 1000, tenant, user, batch, prompt);
            insert.ExecuteNonQuery();

            metadata.Parameters[0].Value = tenant;
            metadata.Parameters[1].Value = user;
            metadata.Parameters[2].Value = batch;
            metadata.Parameters[3].Value = seq;
            metadata.ExecuteNonQuery();

            messages.Parameters[0].Value = seq;
            messages.Parameters[1].Value = Message(buffer, id, 0, "system", system.Value);
            messages.Parameters[2].Value = Message(buffer, id, 1, "user", prompt.Value);
            messages.ExecuteNonQuery();
        }
        transaction?.Commit();
        transaction?.Dispose();
        Console.Error.WriteLine($"\rseed: {options.Count:N0} completions inserted in {stopwatch.Elapsed.TotalSeconds:F1} s");
        BulkLoad.End(connection, stopwatch);

        Directory.CreateDirectory(options.Out);
        // Random ids across the whole store (GET by id), deep cursors (at least a third of the store from the newest
        // end, and far from the oldest), and the filter values, one per line for wrk's Lua scripts.
        var sample = Math.Min(options.Sample, options.Count);
        File.WriteAllLines(Path.Combine(options.Out, "ids.txt"), Enumerable.Range(0, sample).Select(_ => ids[random.Next(ids.Length)]));
        var deepLow = options.Count / 10;
        var deepHigh = Math.Max(deepLow + 1, options.Count * 2 / 3);
        File.WriteAllLines(Path.Combine(options.Out, "deep-ids.txt"), Enumerable.Range(0, Math.Min(sample, 10_000)).Select(_ => ids[random.Next(deepLow, deepHigh)]));
        File.WriteAllLines(Path.Combine(options.Out, "tenants.txt"), Enumerable.Range(0, 10).Select(t => "t" + t.ToString(CultureInfo.InvariantCulture)));
        File.WriteAllLines(Path.Combine(options.Out, "users.txt"), Enumerable.Range(0, 10_000).Select(u => "u" + u.ToString(CultureInfo.InvariantCulture)));
        // One stored body for the ceiling server to serve.
        File.WriteAllBytes(Path.Combine(options.Out, "body.json"), (byte[])Sql.Scalar(connection, $"SELECT body FROM completions WHERE seq = {options.Count / 2 + 1}")!);
    }

    private static byte[] Body(ArrayBufferWriter<byte> buffer, Random random, string id, long created, string tenant, string user, string batch, Text prompt)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "chat.completion"u8);
            writer.WriteString("id"u8, id);
            writer.WriteString("model"u8, "echo"u8);
            writer.WriteNumber("created"u8, created);
            writer.WriteString("request_id"u8, "req_" + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())));
            writer.WriteNull("tool_choice"u8);
            writer.WriteStartObject("usage"u8);
            writer.WriteNumber("total_tokens"u8, prompt.Tokens + 14 + prompt.Tokens);
            writer.WriteNumber("completion_tokens"u8, prompt.Tokens);
            writer.WriteNumber("prompt_tokens"u8, prompt.Tokens + 14);
            writer.WriteEndObject();
            writer.WriteNumber("seed"u8, random.NextInt64(long.MinValue, long.MaxValue));
            writer.WritePropertyName("top_p"u8);
            writer.WriteRawValue("1.0"u8, skipInputValidation: true);
            writer.WritePropertyName("temperature"u8);
            writer.WriteRawValue("1.0"u8, skipInputValidation: true);
            writer.WritePropertyName("presence_penalty"u8);
            writer.WriteRawValue("0.0"u8, skipInputValidation: true);
            writer.WritePropertyName("frequency_penalty"u8);
            writer.WriteRawValue("0.0"u8, skipInputValidation: true);
            writer.WriteString("system_fingerprint"u8, "fp_ca1e7ec40a"u8);
            writer.WriteNull("input_user"u8);
            writer.WriteString("service_tier"u8, "default"u8);
            writer.WriteNull("tools"u8);
            writer.WriteStartObject("metadata"u8);
            writer.WriteString("tenant"u8, tenant);
            writer.WriteString("user"u8, user);
            writer.WriteString("batch"u8, batch);
            writer.WriteEndObject();
            writer.WriteStartArray("choices"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("message"u8);
            writer.WriteString("content"u8, prompt.Value);
            writer.WriteNull("refusal"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteNull("tool_calls"u8);
            writer.WriteNull("function_call"u8);
            writer.WriteEndObject();
            writer.WriteString("finish_reason"u8, "stop"u8);
            writer.WriteNull("logprobs"u8);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteNull("response_format"u8);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Message(ArrayBufferWriter<byte> buffer, string id, int index, string role, string content)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, $"{id}-{index}");
            writer.WriteString("role"u8, role);
            writer.WriteString("content"u8, content);
            writer.WriteNull("content_parts"u8);
            writer.WriteNull("name"u8);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
