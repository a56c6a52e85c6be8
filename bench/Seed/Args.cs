using System.Globalization;

/// <summary>The seeder's command line.</summary>
internal sealed record Args(string Db, int Count, string Out, int Sample)
{
    public static Args Parse(string[] args)
    {
        string? db = null;
        string? output = null;
        var count = 1_000_000;
        var sample = 100_000;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--db": db = args[i + 1]; break;
                case "--out": output = args[i + 1]; break;
                case "--count": count = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--sample": sample = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown argument {args[i]}. Usage: Seed --db FILE --count N --out DIR [--sample N]");
            }
        }
        if (db is null || output is null || count < 1 || sample < 1)
        {
            throw new ArgumentException("Usage: Seed --db FILE --count N --out DIR [--sample N]");
        }
        return new Args(db, count, output, sample);
    }
}
