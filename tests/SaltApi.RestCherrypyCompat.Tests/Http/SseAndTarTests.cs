using System.Buffers;
using System.Formats.Tar;
using System.Text;
using SaltApi.Abstractions.Events;
using SaltApi.NetapiKit.Events;
using SaltApi.Plugins.RestCherrypyCompat.Http;
using SaltApi.Plugins.RestCherrypyCompat.Keys;
using SaltApi.RestCherrypyCompat.Tests.Events;

namespace SaltApi.RestCherrypyCompat.Tests.Http;

public class SseAndTarTests
{
    [Fact]
    public void Sse_event_is_tag_line_then_data_line_then_blank()
    {
        var data = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["minions"] = new List<object?> { "ms-0", "ms-1", "ms-2", "ms-3", "ms-4" },
            ["_stamp"] = "2026-11-26T17:14:06.452208",
        };
        var text = EventText.Preamble + SseText.Written(new SaltEvent("20261126171406451967", data));
        var t = Transcript.Load("cp-52-get-events-sse");
        Assert.StartsWith(text, t.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void WebSocket_frame_is_a_data_line()
    {
        var frame = EventText.WebSocketFrameUtf8(new SaltEvent("t", new Dictionary<string, object?> { ["a"] = 1L }), out var rented);
        Assert.Equal("data: {\"data\": {\"a\": 1}, \"tag\": \"t\"}\n\n", Encoding.UTF8.GetString(frame.Span));
        ArrayPool<byte>.Shared.Return(rented);
    }

    [Fact]
    public async Task Key_tarball_is_a_padded_ustar_with_pub_then_pem()
    {
        var bytes = KeyTarball.Build("PUBLIC", "PRIVATE KEY");
        Assert.Equal(10240, bytes.Length);
        using var reader = new TarReader(new MemoryStream(bytes));
        var pub = await reader.GetNextEntryAsync(copyData: true);
        var pem = await reader.GetNextEntryAsync(copyData: true);
        Assert.Null(await reader.GetNextEntryAsync());
        Assert.Equal(("minion.pub", "minion.pem"), (pub!.Name, pem!.Name));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, pub.Mode);
        Assert.Equal(DateTimeOffset.UnixEpoch, pub.ModificationTime);
        Assert.Equal("PUBLIC", new StreamReader(pub.DataStream!, Encoding.UTF8).ReadToEnd());
        Assert.Equal("PRIVATE KEY", new StreamReader(pem.DataStream!, Encoding.UTF8).ReadToEnd());
    }

    [Fact]
    public void Empty_keys_give_two_empty_files()
    {
        var bytes = KeyTarball.Build("", "");
        Assert.Equal(10240, bytes.Length);
        using var reader = new TarReader(new MemoryStream(bytes));
        Assert.Equal(0, reader.GetNextEntry()!.Length);
        Assert.Equal(0, reader.GetNextEntry()!.Length);
    }

    [Fact]
    public void Format_events_tracks_jobs()
    {
        var info = new SaltInfo(SaltInfoFlavor.RestCherrypy);
        var frames = info.Process(new SaltEvent("salt/job/1/new", new Dictionary<string, object?>
        {
            ["jid"] = "1", ["_stamp"] = "s", ["minions"] = new List<object?> { "m" }, ["fun"] = "test.ping", ["tgt"] = "*", ["tgt_type"] = "glob",
        }));
        Assert.Equal("{\"jobs\": {\"1\": {\"jid\": \"1\", \"start_time\": \"s\", \"minions\": {\"m\": {\"success\": false}}, \"fun\": \"test.ping\", \"tgt\": \"*\", \"tgt_type\": \"glob\", \"state\": \"running\"}}}", Assert.Single(frames));
        frames = info.Process(new SaltEvent("salt/job/1/ret/m", new Dictionary<string, object?> { ["return"] = true, ["retcode"] = 0L, ["success"] = true, ["fun"] = "test.ping" }));
        Assert.Contains("\"m\": {\"success\": true, \"return\": true, \"retcode\": 0}", Assert.Single(frames), StringComparison.Ordinal);
        Assert.Contains("\"state\": \"complete\"", frames[0], StringComparison.Ordinal);
    }
}
