using System.Collections;
using System.Text;
using System.Text.RegularExpressions;
using SaltApi.Abstractions.Json;

namespace SaltApi.RestCherrypyCompat.Tests.EndToEnd;

/// <summary>
/// Parse-checks a response against the body the real rest_cherrypy answered (a committed transcript):
/// the same keys where the body has a fixed schema, the same kinds of values; map keys that are
/// minion ids or jids are data, not schema, and are compared by their values only.
/// </summary>
internal static partial class Shape
{
    /// <summary>The JSON body of a real rest_cherrypy transcript.</summary>
    public static object? Recorded(string transcript) => Parse(Transcript.Load(transcript).ExactBody);

    public static object? Parse(string json) => SaltJson.Parse(Encoding.UTF8.GetBytes(json));

    public static void AssertLike(object? fixture, object? actual, string path = "$")
    {
        switch (fixture)
        {
            case IEnumerable<KeyValuePair<string, object?>> fmap:
                var amap = Assert.IsAssignableFrom<IEnumerable<KeyValuePair<string, object?>>>(actual).ToDictionary(kv => kv.Key, kv => kv.Value);
                var fixedKeys = fmap.Where(kv => !IsDataKey(kv.Key)).ToList();
                foreach (var (k, v) in fixedKeys)
                {
                    Assert.True(amap.ContainsKey(k), $"{path}: missing key '{k}' (has {string.Join(", ", amap.Keys)})");
                    AssertLike(v, amap[k], $"{path}.{k}");
                }

                var fdata = fmap.FirstOrDefault(kv => IsDataKey(kv.Key));
                var adata = amap.FirstOrDefault(kv => IsDataKey(kv.Key) && !fixedKeys.Any(f => f.Key == kv.Key));
                if (fdata.Key is not null && adata.Key is not null)
                {
                    AssertLike(fdata.Value, adata.Value, $"{path}.<{adata.Key}>");
                }

                break;
            case string:
                Assert.True(actual is string, $"{path}: expected a string, got {Describe(actual)}");
                break;
            case bool:
                Assert.True(actual is bool, $"{path}: expected a bool, got {Describe(actual)}");
                break;
            case long or double:
                Assert.True(actual is long or double or ulong, $"{path}: expected a number, got {Describe(actual)}");
                break;
            case IList flist:
                var alist = Assert.IsAssignableFrom<IList>(actual);
                if (flist.Count > 0 && alist.Count > 0)
                {
                    AssertLike(flist[0], alist[0], path + "[0]");
                }

                break;
        }
    }

    private static string Describe(object? v) => v?.GetType().Name ?? "null";

    private static bool IsDataKey(string key) => DataKey().IsMatch(key);

    [GeneratedRegex(@"^(minion[-\w]*|ms-+\d+|\d{3,}|\d+\.\d+\.\d+\.\d+)$")]
    private static partial Regex DataKey();
}
