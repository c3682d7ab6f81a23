using System.Collections.Frozen;

namespace SaltApi.Protocol.Msgpack;

/// <summary>
/// The words every load, reply and event of Salt's repeats (keys such as <c>fun</c>, <c>jid</c>, <c>_stamp</c>,
/// and a few values such as <c>glob</c>): read from msgpack, each is one shared string instead of a new one per
/// message. A local test.ping allocated ~3 KB of such strings across the daemon and the embedded master.
/// </summary>
internal static class SaltWords
{
    /// <summary>Longer texts are never looked up.</summary>
    public const int MaxLength = 24;

    private static readonly FrozenSet<string> Words = new[]
    {
        // loads (request channel)
        "cmd", "fun", "arg", "kwarg", "kwargs", "tgt", "tgt_type", "ret", "jid", "id", "user", "key", "to", "timeout",
        "token", "eauth", "username", "password", "load", "enc", "clear", "aes", "delimiter", "master_id", "metadata",
        "client", "local", "local_async", "runner", "wheel", "print_event", "publish", "get_token", "mk_token",
        "module_executors", "executor_opts", "ret_config", "ret_kwargs", "gather_job_timeout", "show_jid",
        "full_return", "__kwarg__", "jid_include", "batch",
        // replies, tokens and events
        "return", "retcode", "success", "fun_args", "_stamp", "minions", "missing", "out", "error", "message", "name",
        "expire", "start", "auth_list", "groups", "tag", "data", "result", "nested", "txt",
        // targets and functions seen on every job
        "glob", "list", "pcre", "grain", "grain_pcre", "compound", "nodegroup", "ipcidr", "pillar",
        "test.ping", "saltutil.find_job", "saltutil.running",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Words.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The shared string for ASCII bytes that spell one of the words; null otherwise (nothing allocated).</summary>
    public static string? Find(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length is 0 or > MaxLength)
        {
            return null;
        }

        Span<char> chars = stackalloc char[MaxLength];
        for (var i = 0; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b >= 0x80)
            {
                return null;
            }

            chars[i] = (char)b;
        }

        return ByChars.TryGetValue(chars[..utf8.Length], out var word) ? word : null;
    }
}
