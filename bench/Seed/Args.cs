using System.Globalization;

/// <summary>The seeder's command line: completions (<c>--count</c>) or responses (<c>--responses</c>), one kind a run.</summary>
internal sealed record Args(string Db, int Count, int Responses, string Out, int Sample)
{
    private const string Usage = "Usage: Seed --db FILE --out DIR (--count N | --responses N) [--sample N]";

    public static Args Parse(string[] args)
    {
        string? db = null;
        string? output = null;
        var count = 0;
        var responses = 0;
        var sample = 100_000;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--db": db = args[i + 1]; break;
                case "--out": output = args[i + 1]; break;
                case "--count": count = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--responses": responses = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--sample": sample = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown argument {args[i]}. {Usage}");
            }
        }
        // Completions go in on a store taken back to schema version 2 (see Completions.Seed), responses on one at the
        // latest version, so one run cannot do both: seed completions, start Cairn once, then seed responses.
        if (db is null || output is null || count < 0 || responses < 0 || (count > 0) == (responses > 0) || sample < 1)
        {
            throw new ArgumentException(Usage);
        }
        return new Args(db, count, responses, output, sample);
    }
}
