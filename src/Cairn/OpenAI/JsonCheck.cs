using System.Globalization;
using System.Text.Json;

namespace Cairn.OpenAI;

/// <summary>
/// Reads typed values out of a request's JSON and fails with OpenAI's wording and a <c>param</c> path.
/// System.Text.Json's own errors name neither the parameter nor the rule, so requests are walked by hand.
/// </summary>
internal static class JsonCheck
{
    public static string Path(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static string Path(string parent, int index) => $"{parent}[{index}]";

    public static OpenAIException InvalidType(string path, string expected, JsonElement actual) =>
        OpenAIException.InvalidRequest(path,
            $"Invalid type for '{path}': expected {expected}, but got {Describe(actual)} instead.", "invalid_type");

    public static OpenAIException Missing(string path) =>
        OpenAIException.InvalidRequest(path, $"Missing required parameter: '{path}'.", "missing_required_parameter");

    public static OpenAIException Unknown(string path) =>
        OpenAIException.InvalidRequest(path, $"Unrecognized request argument supplied: '{path}'.", "unknown_parameter");

    public static OpenAIException InvalidValue(string path, string value, IReadOnlyList<string> allowed) =>
        OpenAIException.InvalidRequest(path,
            $"Invalid value: '{value}'. Supported values are: {string.Join(", ", allowed.Select(a => $"'{a}'"))}.", "invalid_value");

    public static OpenAIException Invalid(string path, string message, string code = "invalid_value") =>
        OpenAIException.InvalidRequest(path, $"Invalid '{path}': {message}", code);

    /// <summary>The root of a request body, which must be an object; the error names no parameter.</summary>
    public static JsonElement RequireBodyObject(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
            ? root
            : throw OpenAIException.InvalidRequest(null,
                $"The request body must be a JSON object, but got {Describe(root)} instead.", "invalid_type");

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => element.TryGetInt64(out _) ? "an integer" : "a decimal",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>Fails on any property of <paramref name="obj"/> not named in <paramref name="known"/>.</summary>
    public static void OnlyKnown(JsonElement obj, string path, params ReadOnlySpan<string> known)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw Unknown(Path(path, property.Name));
            }
        }
    }

    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static JsonElement RequireObject(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Object ? value : throw InvalidType(path, "an object", value);

    public static JsonElement RequireProperty(JsonElement obj, string name, string path) =>
        Get(obj, name) ?? throw Missing(Path(path, name));

    public static string RequireString(JsonElement obj, string name, string path) =>
        String(RequireProperty(obj, name, path), Path(path, name));

    public static string? OptionalString(JsonElement obj, string name, string path) =>
        Get(obj, name) is { } value ? String(value, Path(path, name)) : null;

    public static string String(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw InvalidType(path, "a string", value);

    public static string? OptionalString(JsonElement obj, string name, string path, int maxLength)
    {
        var value = OptionalString(obj, name, path);
        if (value is not null && value.Length > maxLength)
        {
            var at = Path(path, name);
            throw Invalid(at, $"string too long. Expected a string with maximum length {maxLength}, but got a string with length {value.Length} instead.", "string_above_max_length");
        }
        return value;
    }

    public static bool? OptionalBool(JsonElement obj, string name, string path)
    {
        if (Get(obj, name) is not { } value)
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw InvalidType(Path(path, name), "a boolean", value),
        };
    }

    public static double? OptionalNumber(JsonElement obj, string name, string path, double min, double max)
    {
        if (Get(obj, name) is not { } value)
        {
            return null;
        }
        var at = Path(path, name);
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw InvalidType(at, "a decimal", value);
        }
        if (!value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            // A number beyond double's range, such as 1e400: out of range, not of the wrong type.
            number = value.GetRawText().StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        }
        if (number < min)
        {
            throw Invalid(at, $"decimal below minimum value. Expected a value >= {Format(min)}, but got {value.GetRawText()} instead.", "decimal_below_min_value");
        }
        if (number > max)
        {
            throw Invalid(at, $"decimal above maximum value. Expected a value <= {Format(max)}, but got {value.GetRawText()} instead.", "decimal_above_max_value");
        }
        return number;
    }

    public static long? OptionalInteger(JsonElement obj, string name, string path, long min, long max)
    {
        if (Get(obj, name) is not { } value)
        {
            return null;
        }
        var at = Path(path, name);
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw InvalidType(at, "an integer", value);
        }
        if (!value.TryGetInt64(out var number))
        {
            // 1.0 is an integer to JSON Schema; 1.5 is not. An integer beyond a long (1e30, 1e400, twenty digits) is
            // out of range rather than of the wrong type.
            if (!value.TryGetDouble(out var d))
            {
                d = value.GetRawText().StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
            }
            if (double.IsFinite(d) && Math.Floor(d) != d)
            {
                throw InvalidType(at, "an integer", value);
            }
            if (double.IsFinite(d) && Math.Abs(d) < 9.2e18)
            {
                number = (long)d;
            }
            else
            {
                throw d < 0
                    ? Invalid(at, $"integer below minimum value. Expected a value >= {min}, but got {value.GetRawText()} instead.", "integer_below_min_value")
                    : Invalid(at, $"integer above maximum value. Expected a value <= {max}, but got {value.GetRawText()} instead.", "integer_above_max_value");
            }
        }
        if (number < min)
        {
            throw Invalid(at, $"integer below minimum value. Expected a value >= {min}, but got {number} instead.", "integer_below_min_value");
        }
        if (number > max)
        {
            throw Invalid(at, $"integer above maximum value. Expected a value <= {max}, but got {number} instead.", "integer_above_max_value");
        }
        return number;
    }

    public static string? OptionalEnum(JsonElement obj, string name, string path, params string[] allowed)
    {
        var value = OptionalString(obj, name, path);
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            throw InvalidValue(Path(path, name), value, allowed);
        }
        return value;
    }

    public static string RequireEnum(JsonElement obj, string name, string path, params string[] allowed) =>
        OptionalEnum(obj, name, path, allowed) ?? throw Missing(Path(path, name));

    public static JsonElement? OptionalObject(JsonElement obj, string name, string path) =>
        Get(obj, name) is { } value ? RequireObject(value, Path(path, name)) : null;

    public static JsonElement? OptionalArray(JsonElement obj, string name, string path, int minLength, int maxLength)
    {
        if (Get(obj, name) is not { } value)
        {
            return null;
        }
        var at = Path(path, name);
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw InvalidType(at, "an array", value);
        }
        CheckLength(value, at, minLength, maxLength);
        return value;
    }

    public static void CheckLength(JsonElement array, string path, int minLength, int maxLength)
    {
        var length = array.GetArrayLength();
        if (length < minLength)
        {
            throw minLength == 1 && length == 0
                ? Invalid(path, "empty array. Expected an array with minimum length 1, but got an empty array instead.", "empty_array")
                : Invalid(path, $"array too short. Expected an array with minimum length {minLength}, but got an array with length {length} instead.", "array_below_min_length");
        }
        if (length > maxLength)
        {
            throw Invalid(path, $"array too long. Expected an array with maximum length {maxLength}, but got an array with length {length} instead.", "array_above_max_length");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
