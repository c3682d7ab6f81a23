namespace SaltApi.Host.Configuration;

/// <summary>Where each (dotted) config key was written: the file and line that set its current value.</summary>
internal sealed class ConfigLocations
{
    private readonly Dictionary<string, (string File, int Line)> byKey = new(StringComparer.Ordinal);

    /// <summary>Records (or replaces, when an include overrides it) a key's place.</summary>
    public void Set(string dottedKey, string file, int line) => byKey[dottedKey] = (file, line);

    /// <summary>
    /// Replaces a key's tree (the key and everything under it) by <paramref name="other"/>'s: a shallow
    /// top-level merge replaced the block.
    /// </summary>
    public void ReplaceTree(ConfigLocations other, string topKey)
    {
        foreach (var key in byKey.Keys.Where(k => InTree(k, topKey)).ToList())
        {
            byKey.Remove(key);
        }

        foreach (var (key, place) in other.byKey.Where(kv => InTree(kv.Key, topKey)))
        {
            byKey[key] = place;
        }
    }

    /// <summary>Copies every location of <paramref name="other"/> over this one.</summary>
    public void Overlay(ConfigLocations other)
    {
        foreach (var (key, place) in other.byKey)
        {
            byKey[key] = place;
        }
    }

    private static bool InTree(string key, string topKey) => key == topKey || key.StartsWith(topKey + ".", StringComparison.Ordinal);

    /// <summary>The place of a key, or of its nearest written parent; null when unknown (a default).</summary>
    public (string File, int Line)? Find(string dottedKey)
    {
        for (var key = dottedKey; key.Length > 0;)
        {
            if (byKey.TryGetValue(key, out var place))
            {
                return place;
            }

            var dot = key.LastIndexOf('.');
            if (dot < 0)
            {
                break;
            }

            key = key[..dot];
        }

        return null;
    }
}
