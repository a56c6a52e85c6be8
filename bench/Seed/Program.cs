// Fills a Cairn SQLite store with stored completions of realistic size, fast: rows go in directly with prepared
// statements in large transactions, in exactly the shape Cairn stores (OpenAI/StoredCompletionWriter.cs), on a
// schema Cairn itself created (start Cairn once on the file first). Writes sample ids for wrk's Lua scripts.
//
//   Seed --db FILE --count N --out DIR [--sample 100000]
//
// Each completion: a system and a ~1 KB user message (echo answers the user message, so the reply is ~1 KB too),
// metadata tenant (10 values, unselective), user (10,000 values, selective), batch (1 per 1,000 rows).
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

var options = Args.Parse(args);
var stopwatch = Stopwatch.StartNew();
using var connection = new SqliteConnection($"Data Source={options.Db};Pooling=False");
connection.Open();
Exec(connection, "PRAGMA busy_timeout = 5000");
if (Convert.ToInt64(Scalar(connection, "PRAGMA user_version"), CultureInfo.InvariantCulture) < 1)
{
    Fail($"{options.Db} has no Cairn schema: start Cairn once with --db {options.Db} first.");
}
if (Convert.ToInt64(Scalar(connection, "SELECT count(*) FROM completions"), CultureInfo.InvariantCulture) != 0)
{
    Fail($"{options.Db} already holds completions; seed an empty store.");
}
// Migration 3 (the dashboard) keeps a preview, search words and an hourly rollup for every completion, written
// by Cairn beside each store. Rows inserted here have none, so the store goes back to version 2 and Cairn's own
// migration 3 fills them for the seeded rows at its next start (bench/run starts it once for that), as it does for
// a real store upgraded with completions in it: the scenarios then run on a store whose every table is full.
if (Convert.ToInt64(Scalar(connection, "PRAGMA user_version"), CultureInfo.InvariantCulture) >= 3)
{
    Exec(connection, """
        DROP TABLE completion_previews; DROP TABLE completion_search; DROP TABLE completion_rollup;
        DROP TABLE IF EXISTS completion_search_pending; PRAGMA user_version = 2
        """);
}
// Bulk load without a journal; the file goes back to WAL (what Cairn runs with) at the end.
Exec(connection, "PRAGMA journal_mode = DELETE");
Exec(connection, "PRAGMA journal_mode = OFF");
Exec(connection, "PRAGMA synchronous = OFF");
Exec(connection, "PRAGMA cache_size = -2000000");
Exec(connection, "PRAGMA temp_store = MEMORY");

var texts = Texts.Make();
var random = new Random(42);
var nowMillis = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
// Spread over the last 30 days, in storage order, with strictly increasing times (ids sort like Cairn's).
var step = Math.Max(1, 30L * 24 * 3600 * 1000 / options.Count);
var firstMillis = nowMillis - (step * options.Count);

using var insert = Prepare(connection,
    "INSERT INTO completions(seq, id, project_id, model, created, metadata, body) VALUES ($seq, $id, 1, 'echo', $created, $metadata, $body)",
    "$seq", "$id", "$created", "$metadata", "$body");
using var metadata = Prepare(connection,
    "INSERT INTO completion_metadata(project_id, key, value, seq) VALUES (1, 'tenant', $t, $seq), (1, 'user', $u, $seq), (1, 'batch', $b, $seq)",
    "$t", "$u", "$b", "$seq");
using var messages = Prepare(connection,
    "INSERT INTO completion_messages(seq, idx, body) VALUES ($seq, 0, $m0), ($seq, 1, $m1)",
    "$seq", "$m0", "$m1");

var ids = new string[options.Count];
var buffer = new ArrayBufferWriter<byte>(4096);
var jsonOptions = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
const int PerTransaction = 50_000;
SqliteTransaction? transaction = null;
for (var i = 0; i < options.Count; i++)
{
    if (i % PerTransaction == 0)
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
    insert.Parameters[4].Value = Body(id, millis / 1000, tenant, user, batch, prompt);
    insert.ExecuteNonQuery();

    metadata.Parameters[0].Value = tenant;
    metadata.Parameters[1].Value = user;
    metadata.Parameters[2].Value = batch;
    metadata.Parameters[3].Value = seq;
    metadata.ExecuteNonQuery();

    messages.Parameters[0].Value = seq;
    messages.Parameters[1].Value = Message(id, 0, "system", system.Value);
    messages.Parameters[2].Value = Message(id, 1, "user", prompt.Value);
    messages.ExecuteNonQuery();
}
transaction?.Commit();
transaction?.Dispose();
Console.Error.WriteLine($"\rseed: {options.Count:N0} completions inserted in {stopwatch.Elapsed.TotalSeconds:F1} s");
Exec(connection, "PRAGMA journal_mode = WAL");
// No ANALYZE: Cairn never runs it, so the planner sees what it sees in production.
Console.Error.WriteLine($"seed: back to WAL at {stopwatch.Elapsed.TotalSeconds:F1} s");

Directory.CreateDirectory(options.Out);
// Random ids across the whole store (GET by id), deep cursors (at least a third of the store from the newest end,
// and far from the oldest), and the filter values, one per line for wrk's Lua scripts.
var sample = Math.Min(options.Sample, options.Count);
File.WriteAllLines(Path.Combine(options.Out, "ids.txt"), Enumerable.Range(0, sample).Select(_ => ids[random.Next(ids.Length)]));
var deepLow = options.Count / 10;
var deepHigh = Math.Max(deepLow + 1, options.Count * 2 / 3);
File.WriteAllLines(Path.Combine(options.Out, "deep-ids.txt"), Enumerable.Range(0, Math.Min(sample, 10_000)).Select(_ => ids[random.Next(deepLow, deepHigh)]));
File.WriteAllLines(Path.Combine(options.Out, "tenants.txt"), Enumerable.Range(0, 10).Select(t => "t" + t.ToString(CultureInfo.InvariantCulture)));
File.WriteAllLines(Path.Combine(options.Out, "users.txt"), Enumerable.Range(0, 10_000).Select(u => "u" + u.ToString(CultureInfo.InvariantCulture)));
// One stored body for the ceiling server to serve.
File.WriteAllBytes(Path.Combine(options.Out, "body.json"), (byte[])Scalar(connection, $"SELECT body FROM completions WHERE seq = {options.Count / 2 + 1}")!);
Console.Error.WriteLine($"seed: done in {stopwatch.Elapsed.TotalSeconds:F1} s");
return 0;

byte[] Body(string id, long created, string tenant, string user, string batch, Text prompt)
{
    buffer.ResetWrittenCount();
    using (var writer = new Utf8JsonWriter(buffer, jsonOptions))
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

byte[] Message(string id, int index, string role, string content)
{
    buffer.ResetWrittenCount();
    using (var writer = new Utf8JsonWriter(buffer, jsonOptions))
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

static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] names)
{
    var command = connection.CreateCommand();
    command.CommandText = sql;
    foreach (var name in names)
    {
        command.Parameters.Add(new SqliteParameter { ParameterName = name });
    }
    command.Prepare();
    return command;
}

static void Exec(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

static object? Scalar(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    return command.ExecuteScalar();
}

static void Fail(string message)
{
    Console.Error.WriteLine($"seed: {message}");
    Environment.Exit(2);
}
