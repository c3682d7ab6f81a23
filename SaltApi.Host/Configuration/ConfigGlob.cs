using SaltApi.Protocol.Values;

namespace SaltApi.Host.Configuration;

/// <summary>Python's glob for <c>include</c> and <c>default_include</c>.</summary>
internal static partial class MasterConfigLoader
{
    /// <summary>Python's glob.glob for an absolute pattern (<c>*</c>, <c>?</c>, <c>[...]</c>), sorted; files only.</summary>
    internal static List<string> Glob(string pattern)
    {
        var parts = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { "/" };
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var last = i == parts.Length - 1;
            var next = new List<string>();
            foreach (var dir in current)
            {
                if (!HasMagic(part))
                {
                    var candidate = Path.Combine(dir, part);
                    if (last ? File.Exists(candidate) : Directory.Exists(candidate))
                    {
                        next.Add(candidate);
                    }

                    continue;
                }

                if (!Directory.Exists(dir))
                {
                    continue;
                }

                IEnumerable<string> entries;
                try
                {
                    entries = last ? Directory.EnumerateFiles(dir) : Directory.EnumerateDirectories(dir);
                    entries = entries.ToList();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                foreach (var entry in entries)
                {
                    var name = Path.GetFileName(entry);
                    // glob skips dot files unless the pattern itself starts with a dot.
                    if (name.StartsWith('.') && !part.StartsWith('.'))
                    {
                        continue;
                    }

                    if (PyValue.FnMatch(name, part)) // glob.glob matches each part with fnmatch
                    {
                        next.Add(entry);
                    }
                }
            }

            current = next;
        }

        current.Sort(StringComparer.Ordinal);
        return current;
    }

    private static bool HasMagic(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;
}
