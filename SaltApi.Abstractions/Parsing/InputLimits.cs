namespace SaltApi.Abstractions.Parsing;

/// <summary>
/// The bounds every parser of untrusted text (JSON and YAML bodies, yamlified form values and arguments)
/// applies in its single pass, before it builds anything deeper or bigger.
/// </summary>
public static class InputLimits
{
    /// <summary>The deepest nesting of lists and maps; deeper input is a 400, never a stack overflow.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Digits of an integer in any base (Python's default <c>int_max_str_digits</c>, which its json applies
    /// to decimal text): past it a value is refused before any big-number arithmetic.
    /// </summary>
    public const int MaxIntDigits = 4300;

    /// <summary>
    /// Values of one JSON or YAML document (YAML aliases counted as the nodes they stand for: billion laughs).
    /// </summary>
    public const int MaxNodes = 200_000;
}
