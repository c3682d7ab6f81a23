using System.Text;
using SaltApi.Hardening.Tests.Http;

namespace SaltApi.Hardening.Tests.BadInput;

/// <summary>Building blocks shared by the bad-input tables of both modules.</summary>
internal static class Requests
{
    public const string Creds = "\"eauth\": \"file\", \"username\": \"saltdev\", \"password\": \"saltdev\"";

    public static readonly string Valid = $$"""[{"client": "local", "tgt": "ms--0", "fun": "test.ping", {{Creds}}}]""";

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static byte[] Post(string path, byte[] body, string? contentType = "application/json", params (string, string)[] headers) =>
        RawHttp.Build("POST", path, [.. contentType is null ? [] : new[] { ("Content-Type", contentType) }, .. headers], body);

    public static byte[] Post(string path, string body, string? contentType = "application/json", params (string, string)[] headers) =>
        Post(path, Utf8(body), contentType, headers);

    /// <summary>A local lowstate chunk list with the given extra fields (JSON text, without braces).</summary>
    public static string Local(string fields, bool creds = true) =>
        $$"""[{"client": "local", {{(creds ? Creds + ", " : "")}}{{fields}}}]""";

    public static string Deep(int depth, char open = '[', char close = ']') => new string(open, depth) + new string(close, depth);

    public static string DeepObject(int depth) => string.Concat(Enumerable.Repeat("{\"a\": ", depth)) + "1" + new string('}', depth);

    /// <summary>Raw bytes: a request line, header lines as given (CR/LF included verbatim), blank line, body.</summary>
    public static byte[] Raw(string head, byte[]? body = null) => [.. Encoding.Latin1.GetBytes(head), .. body ?? []];
}
