namespace Cairn.Backends;

/// <summary>Routes a request's <c>model</c> to the backend that serves it.</summary>
internal sealed class ModelCatalog(IEnumerable<ModelCard> cards)
{
    private readonly Dictionary<string, ModelCard> byId = cards.ToDictionary(c => c.Id, StringComparer.Ordinal);

    public IReadOnlyCollection<ModelCard> All => byId.Values;

    public ModelCard? Find(string id) => byId.GetValueOrDefault(id);
}
