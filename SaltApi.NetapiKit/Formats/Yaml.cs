using System.Collections;
using System.Globalization;
using System.Text;
using SaltApi.Abstractions.Json;
using SaltApi.Abstractions.Parsing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace SaltApi.NetapiKit.Formats;

/// <summary>A YAML document that could not be parsed.</summary>
public class YamlLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A YAML document past one of <see cref="InputLimits"/> (nesting, nodes, digits): refused as a whole,
/// also where a syntax error would only keep the text (yamlify_arg).
/// </summary>
public sealed class YamlLimitException(string message) : YamlLoadException(message);

/// <summary>
/// YAML as Salt reads and writes it: PyYAML safe_load with YAML 1.1 scalar resolution
/// (yes/no/on/off booleans, 0x/0o/0b ints, underscores), and safe_dump with
/// <c>default_flow_style=False</c> (block style, keys sorted, indentless sequences in maps).
/// </summary>
public static partial class Yaml
{
    // The tags SafeLoader constructs; any other (!!python/..., !custom) is refused.
    private static readonly HashSet<string> SafeTags = new(
        new[] { "str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "merge", "value", "omap", "pairs", "set" }
            .Select(t => "tag:yaml.org,2002:" + t),
        StringComparer.Ordinal);

    /// <summary>
    /// Loads the first document into plain values; an empty stream is null. One pass over the parser's
    /// events with an explicit stack: nesting past <see cref="InputLimits.MaxDepth"/> or more than
    /// <see cref="InputLimits.MaxNodes"/> nodes (aliases counted as what they expand to) is refused as soon
    /// as it is seen, before the scanner reads further (its cost per token grows with the flow depth).
    /// </summary>
    public static object? Load(string text)
    {
        try
        {
            return new EventReader().ReadStream(new Parser(new StringReader(text)));
        }
        catch (YamlException e)
        {
            throw new YamlLoadException(e.Message, e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner throws these on some malformed input; it is still the client's document.
            throw new YamlLoadException(e.Message, e);
        }
    }

    /// <summary>Builds values from parser events; never recurses per level of the input.</summary>
    private sealed class EventReader
    {
        private readonly List<Frame> stack = [];
        private readonly Dictionary<string, Anchored?> anchors = new(StringComparer.Ordinal);
        private int budget = InputLimits.MaxNodes;

        public object? ReadStream(IParser parser)
        {
            parser.Consume<StreamStart>();
            object? first = null;
            var documents = 0;
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                parser.Consume<DocumentStart>();
                var root = ReadNode(parser);
                parser.Consume<DocumentEnd>();
                anchors.Clear();
                if (documents++ == 0)
                {
                    // As before: the first document is the body; later ones must parse but are not used.
                    first = root;
                }
            }

            return first;
        }

        private object? ReadNode(IParser parser)
        {
            while (true)
            {
                var ev = parser.Current ?? throw new YamlLoadException("unexpected end of the YAML stream");
                parser.MoveNext();
                object? value;
                int height;
                switch (ev)
                {
                    case Scalar scalar:
                        Count();
                        CheckTag(scalar.Tag);
                        value = ResolveScalar(scalar);
                        height = 0;
                        Remember(scalar.Anchor, new Anchored(value, 1, 0));
                        break;
                    case AnchorAlias alias:
                        if (!anchors.TryGetValue(alias.Value.Value, out var anchored))
                        {
                            throw new YamlLoadException($"found undefined alias '{alias.Value.Value}'");
                        }

                        if (anchored is null)
                        {
                            // An alias inside the node it names: a recursive structure, which no body needs.
                            throw new YamlLoadException($"found recursive alias '{alias.Value.Value}'");
                        }

                        budget -= anchored.Nodes;
                        if (budget < 0 || stack.Count + anchored.Height > InputLimits.MaxDepth)
                        {
                            throw TooBig();
                        }

                        if (ExpectsKey && anchored.Value is List<object?> or OrderedDictionary<string, object?>)
                        {
                            throw Unhashable();
                        }

                        value = Copy(anchored.Value);
                        height = anchored.Height;
                        break;
                    case NodeEvent { } start and (SequenceStart or MappingStart):
                        Count();
                        CheckTag(start.Tag);
                        if (stack.Count >= InputLimits.MaxDepth)
                        {
                            throw TooBig();
                        }

                        if (ExpectsKey)
                        {
                            throw Unhashable();
                        }

                        if (!start.Anchor.IsEmpty)
                        {
                            anchors[start.Anchor.Value] = null;
                        }

                        stack.Add(new Frame(
                            start is SequenceStart ? new List<object?>() : null,
                            start is MappingStart ? new OrderedDictionary<string, object?>(StringComparer.Ordinal) : null,
                            start.Anchor,
                            budget));
                        continue;
                    case SequenceEnd or MappingEnd:
                        var frame = stack[^1];
                        if (frame.HasKey)
                        {
                            // YamlDotNet ends some malformed mappings after a key; the value was lost.
                            throw new YamlLoadException("mapping key without a value");
                        }

                        stack.RemoveAt(stack.Count - 1);
                        value = (object?)frame.List ?? frame.Map;
                        height = frame.Height + 1;
                        Remember(frame.Anchor, new Anchored(value, frame.BudgetAtStart - budget, height));
                        break;
                    default:
                        throw new YamlLoadException($"unexpected YAML event {ev.GetType().Name}");
                }

                if (stack.Count == 0)
                {
                    return value;
                }

                var parent = stack[^1];
                parent.Height = Math.Max(parent.Height, height);
                if (parent.List is { } list)
                {
                    list.Add(value);
                }
                else if (!parent.HasKey)
                {
                    parent.Key = SaltJson.KeyText(value);
                    parent.HasKey = true;
                }
                else
                {
                    // As SaltYamlSafeLoader.construct_mapping: a repeated key is an error.
                    if (!parent.Map!.TryAdd(parent.Key!, value))
                    {
                        throw new YamlLoadException($"found conflicting ID '{parent.Key}'");
                    }

                    parent.HasKey = false;
                }
            }
        }

        private void Count()
        {
            if (--budget < 0)
            {
                throw TooBig();
            }
        }

        private static YamlLimitException TooBig() => new("document nested too deeply or too large");

        private bool ExpectsKey => stack.Count > 0 && stack[^1] is { Map: not null, HasKey: false };

        // As PyYAML's construct_mapping: a list or map as a key is unhashable.
        private static YamlLoadException Unhashable() => new("found unhashable key");

        private void Remember(AnchorName anchor, Anchored value)
        {
            if (!anchor.IsEmpty)
            {
                anchors[anchor.Value] = value;
            }
        }

        // As PyYAML's safe_load: a tag outside YAML's own (!!python/object..., !custom) has no constructor.
        private static void CheckTag(TagName tagName)
        {
            var tag = tagName.IsEmpty ? null : tagName.Value;
            if (tag is not null && tag != "!" && !SafeTags.Contains(tag))
            {
                throw new YamlLoadException($"could not determine a constructor for the tag '{tag}'");
            }
        }

        // Every alias gets its own copy, as the tree the loader built before; the budget paid for its nodes.
        private static object? Copy(object? value) => value switch
        {
            List<object?> list => list.Select(Copy).ToList(),
            OrderedDictionary<string, object?> map => new OrderedDictionary<string, object?>(map.Select(kv => KeyValuePair.Create(kv.Key, Copy(kv.Value))), StringComparer.Ordinal),
            _ => value,
        };

        private sealed record Anchored(object? Value, int Nodes, int Height);

        private sealed class Frame(List<object?>? list, OrderedDictionary<string, object?>? map, AnchorName anchor, int budgetAtStart)
        {
            public List<object?>? List { get; } = list;

            public OrderedDictionary<string, object?>? Map { get; } = map;

            public AnchorName Anchor { get; } = anchor;

            public int BudgetAtStart { get; } = budgetAtStart;

            public int Height { get; set; }

            public bool HasKey { get; set; }

            public string? Key { get; set; }
        }
    }

    private static object? ResolveScalar(Scalar scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? "" : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" or "!!str")
        {
            return value;
        }

        if (scalar.Style != ScalarStyle.Plain && tag.Length == 0)
        {
            return value;
        }

        return ResolvePlain(value);
    }

    /// <summary>YAML 1.1 implicit resolution of a plain scalar (PyYAML's Resolver); dates stay text.</summary>
    public static object? ResolvePlain(string value) => YamlScalar.Classify(value) switch
    {
        YamlScalarKind.Null => null,
        YamlScalarKind.Bool => YamlScalar.ToBool(value),

        // One digit cap in every base, checked before any big-number arithmetic (Python caps decimal only).
        YamlScalarKind.Int => YamlInt.TryParse(value, out var number)
            ? YamlInt.Narrow(number)
            : throw new YamlLimitException($"integer with more than {InputLimits.MaxIntDigits} digits"),

        // As PyYAML's construct_yaml_float, whose float() raises on what the resolver's regex lets through
        // ("._", ".e+3"): a load error (400 for a body; yamlify keeps the text), never an unhandled exception.
        YamlScalarKind.Float => YamlScalar.TryFloat(value, out var d) ? d : throw new YamlLoadException($"could not convert string to float: '{value}'"),
        _ => value,
    };
}
