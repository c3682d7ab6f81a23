using SaltApi.NetapiKit.Formats;

namespace SaltApi.Plugins.RestCherrypyCompat.Formats;

/// <summary>
/// yamlify_arg for form-encoded values (spec/03 §4.2): the shared rules (Abstractions' Yamlify) over this
/// plugin's bounded YAML loader.
/// </summary>
internal static class FormYamlify
{
    /// <summary>Yamlifies one form value; non-strings pass through.</summary>
    public static object? Arg(object? arg) => Abstractions.Parsing.Yamlify.Arg(arg, TryLoad);

    private static bool TryLoad(string s, out object? value)
    {
        value = null;
        if (Abstractions.Parsing.YamlScalar.IsTimestamp(s.Trim()))
        {
            return false;
        }

        try
        {
            value = Yaml.Load(s);
            return true;
        }
        catch (YamlLoadException e) when (e is not YamlLimitException)
        {
            // As yamlify_arg: text that does not load stays text. Past a limit the whole request is refused
            // (Salt keeps the text after PyYAML's RecursionError; we never start that work).
            return false;
        }
    }
}
