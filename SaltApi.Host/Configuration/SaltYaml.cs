using System.Globalization;
using System.Numerics;
using SaltApi.Abstractions.Parsing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using SaltApi.Protocol.Values;

namespace SaltApi.Host.Configuration;

/// <summary>
/// Loads a YAML config file into plain values the way Salt's <c>SaltYamlSafeLoader</c> (PyYAML's
/// SafeLoader, YAML 1.1) does: maps become <see cref="OrderedDictionary{TKey, TValue}"/>, sequences
/// <see cref="List{T}"/>, plain scalars are resolved to null, bool, long, double or string, quoted
/// scalars stay strings. Every map key's file and line is remembered for error messages.
/// </summary>
internal static partial class SaltYaml
{
    /// <summary>Reads one file: its single document must be a map (or empty).</summary>
    public static OrderedDictionary<string, object?> LoadFile(string path, ConfigLocations locations)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException(path, 0, null, e.Message, e);
        }

        return Load(text, path, locations);
    }

    /// <summary>Parses YAML text; <paramref name="file"/> names it in errors and locations.</summary>
    public static OrderedDictionary<string, object?> Load(string text, string file, ConfigLocations locations)
    {
        var reader = new Reader(file, locations);
        object? doc;
        try
        {
            doc = reader.ReadStream(new Parser(new StringReader(text)));
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this on some malformed input; the reader knows the last good line.
            throw new ConfigFileException(file, reader.LastLine, null, "invalid YAML after this line", e);
        }
        catch (YamlException e)
        {
            // PyYAML: "Error parsing configuration file: <path> - <problem> in <path>, line N, column M"
            throw new ConfigFileException(file, (int)e.Start.Line, null, $"{Problem(e)} (column {e.Start.Column})", e);
        }

        return doc switch
        {
            // salt.config._read_conf_file: `safe_load(f) or {}`
            null => [],
            OrderedDictionary<string, object?> map => map,
            string { Length: 0 } => [],
            _ => throw new ConfigFileException(file, 1, null, $"conf should be a document, not {PythonTypeName(doc)}."),
        };
    }

    private static string Problem(YamlException e)
    {
        // YamlDotNet prepends "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): "; the line is reported separately.
        var m = e.Message;
        var i = m.IndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && m.StartsWith('(') ? m[(i + 3)..] : m;
    }

    /// <summary>Python's name of a value's type, as Salt's messages show it.</summary>
    public static string PythonTypeName(object? value) => value switch
    {
        null => "<class 'NoneType'>",
        bool => "<class 'bool'>",
        long or ulong or BigInteger => "<class 'int'>",
        double => "<class 'float'>",
        string => "<class 'str'>",
        byte[] => "<class 'bytes'>",
        System.Collections.IDictionary or IReadOnlyDictionary<string, object?> => "<class 'dict'>",
        System.Collections.IList => "<class 'list'>",
        _ => $"<class '{value.GetType().Name}'>",
    };

    /// <summary>Python's <c>str()</c> of a scalar used as a map key.</summary>
    public static string KeyText(object? key) => PyValue.Str(key);

    private const string TagPrefix = "tag:yaml.org,2002:";

    /// <summary>Resolves a plain scalar as PyYAML's SafeLoader would (timestamps stay strings: Salt registers construct_scalar for them).</summary>
    internal static object? ResolvePlain(string value) => YamlScalar.Classify(value) switch
    {
        YamlScalarKind.Null => null,
        YamlScalarKind.Bool => YamlScalar.ToBool(value),
        YamlScalarKind.Float => ConstructFloat(value),
        YamlScalarKind.Int => ConstructInt(value),
        _ => value,
    };

    /// <summary>PyYAML construct_yaml_int after Salt's construct_scalar strips leading zeros (so 0755 is 755).</summary>
    internal static object ConstructInt(string raw)
    {
        if (raw != "0" && raw.StartsWith('0') && !raw.StartsWith("0b", StringComparison.Ordinal) && !raw.StartsWith("0x", StringComparison.Ordinal))
        {
            raw = raw.TrimStart('0');
            if (raw.Length == 0)
            {
                raw = "0";
            }
        }

        // One digit cap in every base (InputLimits), as for request bodies.
        if (!YamlInt.TryParse(raw, out var result))
        {
            throw new FormatException($"not an integer of at most {InputLimits.MaxIntDigits} digits");
        }

        if (result >= long.MinValue && result <= long.MaxValue)
        {
            return (long)result;
        }

        return result >= 0 && result <= ulong.MaxValue ? (object)(ulong)result : (object)(double)result;
    }

    /// <summary>PyYAML construct_yaml_float.</summary>
    internal static double ConstructFloat(string raw) =>
        YamlScalar.TryFloat(raw, out var d) ? d : throw new FormatException($"could not convert string to float: '{raw}'");

    /// <summary>Builds values from parser events (aliases share the anchored value, as in Python).</summary>
    private sealed class Reader(string file, ConfigLocations locations)
    {
        private readonly Dictionary<string, object?> anchors = new(StringComparer.Ordinal);

        /// <summary>The line of the last event read.</summary>
        public int LastLine { get; private set; }

        public object? ReadStream(IParser parser)
        {
            parser.Consume<StreamStart>();
            object? doc = null;
            var documents = 0;
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                var start = parser.Consume<DocumentStart>();
                documents++;
                if (documents > 1)
                {
                    // PyYAML get_single_node: "expected a single document in the stream"
                    throw new ConfigFileException(file, (int)start.Start.Line, null, "expected a single document in the stream");
                }

                doc = ReadNode(parser, "", 0);
                parser.Consume<DocumentEnd>();
                anchors.Clear();
            }

            return doc;
        }

        private object? ReadNode(IParser parser, string path, int depth)
        {
            if (parser.Current is { } current)
            {
                LastLine = (int)current.Start.Line;
            }

            if (depth > InputLimits.MaxDepth)
            {
                // The same bound as request bodies: this reader recurses once per level.
                throw new ConfigFileException(file, LastLine, NullIfEmpty(path), $"nested deeper than {InputLimits.MaxDepth} levels");
            }

            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                return anchors.TryGetValue(alias.Value.Value, out var v)
                    ? v
                    : throw new ConfigFileException(file, (int)alias.Start.Line, NullIfEmpty(path), $"found undefined alias '{alias.Value.Value}'");
            }

            if (parser.TryConsume<Scalar>(out var scalar))
            {
                var value = ScalarValue(scalar, path);
                Remember(scalar.Anchor, value);
                return value;
            }

            if (parser.TryConsume<SequenceStart>(out var seqStart))
            {
                CheckCollectionTag(seqStart.Tag, "seq", seqStart.Start, path);
                var list = new List<object?>();
                Remember(seqStart.Anchor, list);
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    list.Add(ReadNode(parser, path, depth + 1));
                }

                return list;
            }

            if (parser.TryConsume<MappingStart>(out var mapStart))
            {
                CheckCollectionTag(mapStart.Tag, "map", mapStart.Start, path);
                var map = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
                Remember(mapStart.Anchor, map);
                ReadMapping(parser, map, path, depth);
                return map;
            }

            var unexpected = parser.Current;
            throw new ConfigFileException(file, (int)(unexpected?.Start.Line ?? 0), NullIfEmpty(path), $"unexpected YAML event {unexpected?.GetType().Name}");
        }

        private void ReadMapping(IParser parser, OrderedDictionary<string, object?> map, string path, int depth)
        {
            // As SaltYamlSafeLoader.flatten_mapping: merged entries come first, explicit keys win.
            var merged = new List<KeyValuePair<string, object?>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current!;
                var line = (int)keyEvent.Start.Line;
                if (keyEvent is Scalar { Style: ScalarStyle.Plain, Value: "<<" } mergeKey && mergeKey.Tag.IsEmpty)
                {
                    parser.MoveNext();
                    var mergeValue = ReadNode(parser, path, depth + 1);
                    switch (mergeValue)
                    {
                        case OrderedDictionary<string, object?> one:
                            merged.AddRange(one);
                            break;
                        case List<object?> many:
                            // Later maps in the list are overridden by earlier ones.
                            foreach (var item in many)
                            {
                                if (item is not OrderedDictionary<string, object?> m)
                                {
                                    throw new ConfigFileException(file, line, NullIfEmpty(path), $"expected a mapping for merging, but found {PythonTypeName(item)}");
                                }

                                merged.AddRange(m.Where(kv => !merged.Any(x => x.Key == kv.Key)));
                            }

                            break;
                        default:
                            throw new ConfigFileException(file, line, NullIfEmpty(path), "expected a mapping or list of mappings for merging");
                    }

                    continue;
                }

                var keyValue = ReadNode(parser, path, depth + 1);
                if (keyValue is System.Collections.ICollection)
                {
                    // PyYAML: "found unacceptable key" (unhashable dict or list)
                    throw new ConfigFileException(file, line, NullIfEmpty(path), $"found unacceptable key {PythonTypeName(keyValue)}");
                }

                var key = KeyText(keyValue);
                var childPath = path.Length == 0 ? key : path + "." + key;
                if (map.ContainsKey(key))
                {
                    // SaltYamlSafeLoader.construct_mapping refuses duplicate keys.
                    throw new ConfigFileException(file, line, childPath, $"found conflicting ID '{key}'");
                }

                locations.Set(childPath, file, line);
                map[key] = ReadNode(parser, childPath, depth + 1);
            }

            if (merged.Count > 0)
            {
                var explicitEntries = map.ToList();
                map.Clear();
                foreach (var kv in merged.Where(kv => !explicitEntries.Any(e => e.Key == kv.Key)))
                {
                    map.TryAdd(kv.Key, kv.Value);
                }

                foreach (var kv in explicitEntries)
                {
                    map[kv.Key] = kv.Value;
                }
            }
        }

        private object? ScalarValue(Scalar scalar, string path)
        {
            var tag = scalar.Tag;
            if (tag.IsNonSpecific)
            {
                // "!" (non-specific) on any scalar means str.
                return scalar.Value;
            }

            var name = tag.IsEmpty ? "" : tag.Value.StartsWith(TagPrefix, StringComparison.Ordinal) ? tag.Value[TagPrefix.Length..] : tag.Value;
            try
            {
                if (tag.IsEmpty)
                {
                    return scalar.Style == ScalarStyle.Plain ? ResolvePlain(scalar.Value) : scalar.Value;
                }

                return name switch
                {
                    "str" or "timestamp" or "python/unicode" or "value" => scalar.Value,
                    "null" => null,
                    "bool" when YamlScalar.IsBool(scalar.Value) => YamlScalar.ToBool(scalar.Value),
                    "int" => ConstructInt(scalar.Value),
                    "float" => ConstructFloat(scalar.Value),
                    "binary" => Convert.FromBase64String(string.Concat(scalar.Value.Where(c => !char.IsWhiteSpace(c)))),
                    _ => throw new ConfigFileException(file, (int)scalar.Start.Line, NullIfEmpty(path), $"could not determine a constructor for the tag '{tag.Value}'"),
                };
            }
            catch (FormatException e)
            {
                var shown = scalar.Value.Length > 80 ? scalar.Value[..80] + "..." : scalar.Value;
                throw new ConfigFileException(file, (int)scalar.Start.Line, NullIfEmpty(path), $"invalid value for tag '{(tag.IsEmpty ? TagPrefix + "int" : tag.Value)}': '{shown}'", e);
            }
        }

        private void CheckCollectionTag(TagName tag, string expected, Mark start, string path)
        {
            if (tag.IsEmpty || tag.IsNonSpecific)
            {
                return;
            }

            var name = tag.Value.StartsWith(TagPrefix, StringComparison.Ordinal) ? tag.Value[TagPrefix.Length..] : tag.Value;
            if (name != expected && !(expected == "map" && name == "omap"))
            {
                throw new ConfigFileException(file, (int)start.Line, NullIfEmpty(path), $"could not determine a constructor for the tag '{tag.Value}'");
            }
        }

        private void Remember(AnchorName anchor, object? value)
        {
            if (!anchor.IsEmpty)
            {
                anchors[anchor.Value] = value;
            }
        }

        private static string? NullIfEmpty(string path) => path.Length == 0 ? null : path;
    }
}
