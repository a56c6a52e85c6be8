namespace Cairn.Configuration;

/// <summary>A configuration value Cairn cannot start with; its message names the key.</summary>
internal sealed class OptionsException(string message) : Exception(message);
