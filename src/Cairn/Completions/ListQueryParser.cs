using System.Globalization;
using Cairn.OpenAI;
using Cairn.Storage;

namespace Cairn.Completions;

/// <summary>Reads the query string of the stored-completion lists (<c>after</c>, <c>limit</c>, <c>order</c>, filters).</summary>
internal static class ListQueryParser
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static CompletionQuery Completions(IQueryCollection query)
    {
        var metadata = new List<KeyValuePair<string, string>>();
        // ASP.NET decodes names, so metadata%5Bk%5D (openai-node) and metadata[k] (.NET) arrive alike.
        foreach (var (name, values) in query)
        {
            RefuseNul(name, values);
            if (name == "metadata" || name.StartsWith("metadata[", StringComparison.Ordinal))
            {
                // metadata[KEY] exactly: a name the client got wrong must not quietly list everything unfiltered.
                if (name.Length < 11 || name[^1] != ']' || name.AsSpan(9, name.Length - 10).IndexOfAny('[', ']') >= 0)
                {
                    throw OpenAIException.InvalidRequest(name,
                        $"Invalid query parameter '{name}': a metadata filter is written metadata[KEY]=VALUE, with a non-empty KEY.", "invalid_value");
                }
                var key = name[9..^1];
                if (values.Count > 1)
                {
                    throw OpenAIException.InvalidRequest($"metadata[{key}]", $"Invalid 'metadata[{key}]': give one value per key.", "invalid_value");
                }
                metadata.Add(new(key, values.ToString()));
            }
        }
        if (metadata.Count > MetadataParser.MaxPairs)
        {
            throw OpenAIException.InvalidRequest("metadata", $"Invalid 'metadata' filter: at most {MetadataParser.MaxPairs} keys.", "invalid_value");
        }
        var model = Single(query, "model");
        return new CompletionQuery(string.IsNullOrEmpty(model) ? null : model, metadata, After(query), Limit(query), Ascending(query, false));
    }

    public static MessageQuery Messages(IQueryCollection query, string completionId)
    {
        foreach (var (name, values) in query)
        {
            RefuseNul(name, values);
        }
        int? afterIndex = null;
        if (After(query) is { } after)
        {
            var prefix = completionId + "-";
            if (!after.StartsWith(prefix, StringComparison.Ordinal) ||
                !int.TryParse(after.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                throw OpenAIException.InvalidRequest("after",
                    $"Invalid 'after': '{after}' is not a message id of completion {completionId} (expected {prefix}<n>).", "invalid_value");
            }
            afterIndex = index;
        }
        return new MessageQuery(afterIndex, Limit(query), Ascending(query, true));
    }

    /// <summary><c>GET /v1/responses/{id}/input_items</c>: newest first unless <c>order=asc</c>; <c>after</c> an item id.</summary>
    public static ItemQuery Items(IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            RefuseNul(name, values);
        }
        return new ItemQuery(After(query), Limit(query), Ascending(query, false));
    }

    /// <summary>No query value may hold U+0000: PostgreSQL's text cannot, so no stored value could match it.</summary>
    private static void RefuseNul(string name, Microsoft.Extensions.Primitives.StringValues values)
    {
        foreach (var value in values)
        {
            if (name.Contains('\0', StringComparison.Ordinal) || value?.Contains('\0', StringComparison.Ordinal) == true)
            {
                throw OpenAIException.InvalidRequest(name, $"Invalid query parameter '{name}': it holds the character U+0000 (NUL).", "invalid_value");
            }
        }
    }

    private static string? After(IQueryCollection query) => Single(query, "after") is { Length: > 0 } after ? after : null;

    private static int Limit(IQueryCollection query)
    {
        if (Single(query, "limit") is not { } text)
        {
            return DefaultLimit;
        }
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var limit))
        {
            throw OpenAIException.InvalidRequest("limit", $"Invalid 'limit': expected an integer, but got '{text}' instead.", "invalid_type");
        }
        if (limit is < 1 or > MaxLimit)
        {
            throw OpenAIException.InvalidRequest("limit",
                $"Invalid 'limit': expected a value between 1 and {MaxLimit}, but got {limit} instead.",
                limit < 1 ? "integer_below_min_value" : "integer_above_max_value");
        }
        return limit;
    }

    private static bool Ascending(IQueryCollection query, bool byDefault) => Single(query, "order") switch
    {
        null => byDefault,
        "asc" => true,
        "desc" => false,
        var other => throw OpenAIException.InvalidRequest("order", $"Invalid value: '{other}'. Supported values are: 'asc' and 'desc'.", "invalid_value"),
    };

    private static string? Single(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) ? values.ToString() : null;
}
