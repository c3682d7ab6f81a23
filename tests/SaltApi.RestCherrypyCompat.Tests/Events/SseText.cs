using System.Buffers;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.Abstractions.Json;

namespace SaltApi.RestCherrypyCompat.Tests.Events;

/// <summary>An event's SSE record as the streams write it, and as Salt's text built on its own to compare with.</summary>
internal static class SseText
{
    /// <summary>The record as <see cref="SseRecord.Write"/> writes it into a stream.</summary>
    public static string Written(SaltEvent e)
    {
        var w = new ArrayBufferWriter<byte>();
        SseRecord.Write(w, e);
        return Encoding.UTF8.GetString(w.WrittenSpan);
    }

    /// <summary>Salt's text: the escaped tag line, then the listener's <c>{"data": …, "tag": …}</c> serialized anew.</summary>
    public static string Salt(SaltEvent e) =>
        SseRecord.AppendTag(new StringBuilder("tag: "), e.Tag).Append("\ndata: ").Append(SaltJson.Serialize(new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["data"] = e.Data,
            ["tag"] = e.Tag,
        })).Append("\n\n").ToString();
}
