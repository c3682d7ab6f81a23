using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.Plugins.RestTornadoCompat.Events;

/// <summary>How saltnado writes an event: the listener's <c>{"data": …, "tag": …}</c> as JSON.</summary>
internal static class EventText
{
    /// <summary>The first chunk of every <c>/events</c> stream.</summary>
    public const string Preamble = "retry: 400\n";

    /// <summary>The event as the EventListener hands it out.</summary>
    public static string Json(SaltEvent e) => SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
    {
        ["data"] = e.Data,
        ["tag"] = e.Tag,
    });

    /// <summary>
    /// One SSE record: <c>tag: …\n</c> then <c>data: {json}\n\n</c>. Deliberate difference: CR, LF and NUL
    /// in a tag (any minion can fire one) are written escaped (<c>\r</c>, <c>\n</c>, <c>\u0000</c>, a
    /// backslash doubled), so that no tag forges fields or events in the stream; the data line carries it exactly.
    /// </summary>
    public static void AppendSse(StringBuilder sb, SaltEvent e)
    {
        SseRecord.AppendTag(sb.Append("tag: "), e.Tag);
        sb.Append('\n').Append("data: ").Append(Json(e)).Append("\n\n");
    }
}
