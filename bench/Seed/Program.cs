// Fills a Cairn SQLite store with stored completions or stored responses of realistic size, fast: rows go in directly
// with prepared statements in large transactions, in exactly the shape Cairn stores, on a schema Cairn itself created
// (start Cairn once on the file first). Writes sample ids for wrk's Lua scripts.
//
//   Seed --db FILE --count N --out DIR [--sample 100000]       stored completions (Completions.cs)
//   Seed --db FILE --responses N --out DIR [--sample 100000]   stored responses, in conversations (Responses.cs)
//
// A store with both: seed the completions, start Cairn once (its migrations fill what they derive from completions
// and bring the schema back to its latest version), then seed the responses.
using System.Diagnostics;
using Microsoft.Data.Sqlite;

var options = Args.Parse(args);
var stopwatch = Stopwatch.StartNew();
using var connection = new SqliteConnection($"Data Source={options.Db};Pooling=False");
connection.Open();
Sql.Exec(connection, "PRAGMA busy_timeout = 5000");
if (Sql.Long(connection, "PRAGMA user_version") < 1)
{
    Sql.Fail($"{options.Db} has no Cairn schema: start Cairn once with --db {options.Db} first.");
}
var texts = Texts.Make();
var random = new Random(42);
if (options.Count > 0)
{
    Completions.Seed(connection, options, texts, random, stopwatch);
}
else
{
    Responses.Seed(connection, options, texts, random, stopwatch);
}
Console.Error.WriteLine($"seed: done in {stopwatch.Elapsed.TotalSeconds:F1} s");
return 0;
