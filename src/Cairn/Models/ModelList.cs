using Cairn.Configuration;

namespace Cairn.Models;

/// <summary>Reads and checks the model list (configuration section <c>Models</c>, an array).</summary>
internal static class ModelList
{
    /// <summary>
    /// The configured models, exact ids and patterns, in configuration order. Throws <see cref="OptionsException"/>
    /// naming the entry and key of the first bad setting.
    /// </summary>
    public static IReadOnlyList<ConfiguredModel> Read(IConfiguration configuration, Func<string, string?> environment)
    {
        var section = configuration.GetSection(ModelOptions.Section);
        var entries = new List<ModelEntry>();
        foreach (var child in section.GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue))
        {
            var name = $"{ModelOptions.Section}:{child.Key}";
            ModelOptions options;
            try
            {
                options = child.Get<ModelOptions>() ?? new ModelOptions();
            }
            catch (InvalidOperationException e)
            {
                throw new OptionsException($"{name}: {e.Message}");
            }
            var problems = options.Validate(name, environment).ToList();
            if (problems.Count > 0)
            {
                throw new OptionsException(string.Join(" ", problems));
            }
            entries.Add(new ModelEntry(name, options));
        }

        var models = new List<ConfiguredModel>();
        foreach (var group in entries.GroupBy(e => e.Options.Id!, StringComparer.Ordinal))
        {
            var model = new ConfiguredModel(group.Key, group.ToList());
            var providers = group.Select(e => e.Options.Provider).Distinct().ToList();
            if ((providers.Contains(ModelOptions.Echo) || providers.Contains(ModelOptions.Llama)) && group.Count() > 1)
            {
                throw new OptionsException($"{model.Entry}: '{group.Key}' is given as {providers[0]} and again; an {providers[0]} entry cannot have other deployments.");
            }
            if (group.FirstOrDefault(e => e.Options.ResponsesApi != model.Entries[0].Options.ResponsesApi) is { } other)
            {
                throw new OptionsException(
                    $"{other.Name}:ResponsesApi: every deployment of '{group.Key}' must use the same ResponsesApi ({other.Options.ResponsesApi} here, {model.Entries[0].Options.ResponsesApi} at {model.Entry}).");
            }
            if (model.IsUpstream && group.All(e => e.Options.Weight <= 0))
            {
                throw new OptionsException($"{model.Entry}:Weight: at least one deployment of '{group.Key}' needs a weight above 0.");
            }
            models.Add(model);
        }
        return models;
    }
}
