using System.Text;
using Cairn.Storage.Postgres;
using Cairn.Tests.Infrastructure;
using Npgsql;

namespace Cairn.Tests;

/// <summary>
/// The search vectors Cairn makes for PostgreSQL: on text of plain words they are exactly what
/// <c>setweight(to_tsvector('simple', prompt), 'A') || setweight(to_tsvector('simple', answer), 'B')</c> made before
/// (rows stored then and rows stored now are searched alike), PostgreSQL's limits included, and any text, however odd,
/// gives a vector PostgreSQL accepts.
/// </summary>
public sealed class PostgresSearchTests
{
    private static async Task<NpgsqlDataSource> DatabaseAsync() =>
        NpgsqlDataSource.Create(await (await PostgresServer.GetAsync()).CreateDatabaseAsync());

    public static TheoryData<string, string> PlainTexts() => new()
    {
        { "Hello, world! Hello again.", "The answer is: hello WORLD (twice)." },
        { "", "Only an answer; no prompt." },
        { "Only a prompt", "" },
        { "", "" },
        { "fjörd café naïve", "über 42 answers, 7 questions" },
        // 300 times one word: PostgreSQL keeps 255 positions of a lexeme.
        { string.Concat(Enumerable.Repeat("again ", 300)), "again and again" },
        // 17,000 words: positions stop at 16383, and the answer's follow.
        { string.Join(' ', Enumerable.Range(0, 17_000).Select(i => "w" + i)), "w5 tail" },
        // A word longer than 2047 bytes is left out, with no position.
        { "before " + new string('x', 3000) + " after", "end" },
    };

    [Theory]
    [MemberData(nameof(PlainTexts))]
    public async Task OnPlainWords_TheVectorIsWhatToTsvectorMade(string prompt, string answer)
    {
        await using var database = await DatabaseAsync();
        await using var command = database.CreateCommand("""
            SELECT $1::tsvector = (setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'B')),
                $1::tsvector::text, (setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'B'))::text
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = PostgresSearch.Vector(prompt, answer) });
        command.Parameters.Add(new NpgsqlParameter { Value = prompt });
        command.Parameters.Add(new NpgsqlParameter { Value = answer });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.True(reader.GetBoolean(0), $"Cairn's {Shorten(reader.GetString(1))} against PostgreSQL's {Shorten(reader.GetString(2))}");
    }

    [Fact]
    public async Task AnyText_GivesAVectorPostgresAccepts_AndAQueryThatFindsItsWords()
    {
        var random = new Random(17);
        var odd = new StringBuilder("it's a 'quoted' \\back\\slash: 'x':1A & !y | z:* ");
        for (var i = 0; i < 4000; i++)
        {
            // Any UTF-16 unit but the lone surrogates Cairn never stores (its text is valid UTF-8).
            var c = (char)random.Next(1, 0xD800);
            odd.Append(c);
        }
        odd.Append(" 😀🧪 𝒜𝒷𝒸 end ");
        // 2,047 bytes as written, 3,070 lowercased (U+023A becomes U+2C65), and 2,047 ASCII letters: each too long
        // for a lexeme (2,046 bytes at most), so left out.
        odd.Append('\u023A', 1023).Append("a end ").Append('y', 2047).Append(" end");
        await using var database = await DatabaseAsync();
        await using var command = database.CreateCommand("SELECT $1::tsvector @@ $2::tsquery, length($1::tsvector)");
        var text = odd.ToString();
        command.Parameters.Add(new NpgsqlParameter { Value = PostgresSearch.Vector(text, "answer with 𝒜𝒷𝒸") });
        command.Parameters.Add(new NpgsqlParameter { Value = PostgresSearch.Query(["quoted", "back", "𝒜𝒷", "end"]) });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.True(reader.GetBoolean(0));
        Assert.True(reader.GetInt32(1) > 100);
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..200] + " … " + text[^200..];
}
