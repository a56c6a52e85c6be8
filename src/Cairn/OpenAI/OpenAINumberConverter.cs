using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.OpenAI;

/// <summary>A sampling parameter as OpenAI's stored objects write it: <c>1.0</c>, not <c>1</c>.</summary>
internal sealed class OpenAINumberConverter : JsonConverter<double?>
{
    public override bool HandleNull => true;

    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double? value, JsonSerializerOptions options)
    {
        if (value is not { } number)
        {
            writer.WriteNullValue();
        }
        else if (number == Math.Floor(number) && Math.Abs(number) < 1e15)
        {
            writer.WriteRawValue(number.ToString("0.0", CultureInfo.InvariantCulture), skipInputValidation: true);
        }
        else
        {
            writer.WriteNumberValue(number);
        }
    }
}
