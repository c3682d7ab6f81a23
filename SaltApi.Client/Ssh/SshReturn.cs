using System.Security.Cryptography;
using System.Text;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Json;
using SaltApi.Protocol.Events;
using SaltApi.Protocol.Msgpack;

namespace SaltApi.Client.Ssh;

/// <summary>
/// SSHClient.cmd_sync's answer from salt-ssh's run: <c>{host: {jid, return, retcode, id, fun, fun_args}}</c>, or
/// <c>{host: {stdout, stderr, retcode}}</c> when the host failed. salt-ssh's JSON (<c>--static</c>) prints only each
/// host's <c>return</c> (or its error); the whole per-host answer is what salt-ssh saved in the master job cache
/// (<c>cache_job</c>, local_cache's <c>return.p</c>) under the jid given to it, so it is read from there.
/// Without it (another master_job_cache, or a host whose file is missing) the answer is rebuilt from the JSON.
/// Then, as run_iter fires each host's answer as an event (the same dict, after cache_job), <c>id</c>, <c>fun</c>,
/// <c>jid</c> and fire_event's <c>_stamp</c> are added to it.
/// </summary>
internal static class SshReturn
{
    /// <param name="events">
    /// The clock when SSH would have an event bus (its <c>master_event_pull.ipc</c> exists), so run_iter fires each
    /// host's answer and adds to it what the event adds; null: no event, the answer as cached.
    /// </param>
    public static OrderedDictionary<string, object?> Parse(SshOutput output, string jid, string fun, IReadOnlyList<object?> funArgs, string? jobDir, string hashType, TimeProvider? events = null)
    {
        object? parsed;
        try
        {
            var json = AfterPrompts(output.Stdout);
            parsed = json.Trim("\r\n\t "u8).Length == 0 ? null : SaltJson.Parse(json);
        }
        catch (SaltJsonException)
        {
            parsed = null;
        }

        if (parsed is not OrderedDictionary<string, object?> hosts)
        {
            // No answer to read: salt-ssh failed before it ran anything (bad config, no roster, bad option).
            var message = output.Stderr.Trim();
            throw new SaltClientException(message.Length > 0
                ? $"salt-ssh failed (exit code {output.ExitCode}): {message}"
                : $"salt-ssh failed (exit code {output.ExitCode}) and wrote nothing");
        }

        var ret = new OrderedDictionary<string, object?>(hosts.Count, StringComparer.Ordinal);
        foreach (var (host, printed) in hosts)
        {
            var cached = FromJobCache(jobDir, hashType, jid, host);
            var answer = cached?.Return ?? Rebuild(host, printed, jid, fun, funArgs, output.ExitCode);
            if (events is not null && answer is OrderedDictionary<string, object?> data)
            {
                Fired(data, host, fun, jid, cached?.Written ?? events.GetUtcNow().UtcDateTime);
            }

            ret[host] = answer;
        }

        return ret;
    }

    /// <summary>
    /// run_iter's event for a host, which changes the answer it then yields: <c>id</c> and <c>fun</c> when missing,
    /// <c>jid</c> always, and fire_event's <c>_stamp</c> (utcnow().isoformat()). Here the stamp is when salt-ssh wrote
    /// the host's answer to the job cache (cache_job, just before the event), else now.
    /// </summary>
    private static void Fired(OrderedDictionary<string, object?> data, string host, string fun, string jid, DateTime stamp)
    {
        data.TryAdd("id", host);
        data.TryAdd("fun", fun);
        data["jid"] = jid;
        data["_stamp"] = EventFrame.Stamp(stamp);
    }

    /// <summary>The prompt salt-ssh's key_deploy prints before it reads an answer, for a host that answered "Permission denied".</summary>
    private static ReadOnlySpan<byte> PromptStart => "Permission denied for host "u8;

    private static ReadOnlySpan<byte> PromptEnd => ", do you want to deploy the salt-ssh key? (password required):\n[Y/n] "u8;

    /// <summary>The output after key_deploy's prompts (answered "n"): <c>--static</c> prints the JSON only at the end.</summary>
    internal static ReadOnlySpan<byte> AfterPrompts(ReadOnlySpan<byte> stdout)
    {
        while (stdout.StartsWith(PromptStart) && stdout.IndexOf(PromptEnd) is var end and >= 0)
        {
            stdout = stdout[(end + PromptEnd.Length)..];
        }

        return stdout;
    }

    /// <summary>What run() printed for a host, back into run_iter's shape as far as it can be known.</summary>
    private static OrderedDictionary<string, object?> Rebuild(string host, object? printed, string jid, string fun, IReadOnlyList<object?> funArgs, int exitCode)
    {
        if (printed is OrderedDictionary<string, object?> map && map.ContainsKey("stderr") && map.ContainsKey("retcode") && !map.ContainsKey("return"))
        {
            return map; // a failed host: run() printed the whole map
        }

        if (printed is string s && s.StartsWith("ssh:", StringComparison.Ordinal))
        {
            // run() printed only the stderr of a failed ssh connection; its retcode is not printed.
            return new OrderedDictionary<string, object?>(StringComparer.Ordinal) { ["stdout"] = "", ["stderr"] = s, ["retcode"] = 255L };
        }

        var rebuilt = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["jid"] = jid,
            ["return"] = printed,
        };
        if (exitCode == 0)
        {
            rebuilt["retcode"] = 0L; // salt-ssh exits 0 only when every host's retcode is 0
        }

        rebuilt["id"] = host;
        rebuilt["fun"] = fun;
        rebuilt["fun_args"] = funArgs.ToList();
        return rebuilt;
    }

    /// <summary>local_cache's <c>{jid_dir}/{host}/return.p</c>: <c>{"return": run_iter's answer for the host}</c>.</summary>
    private static (object? Return, DateTime Written)? FromJobCache(string? jobDir, string hashType, string jid, string host)
    {
        if (jobDir is null || host.Length == 0 || host is "." or ".." || host.IndexOfAny(['/', '\\', '\0']) >= 0 || Hash(hashType, jid) is not { } h)
        {
            return null;
        }

        var file = Path.Combine(jobDir, h[..2], h[2..], host, "return.p");
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists || info.Length > 64 * 1024 * 1024)
            {
                return null;
            }

            return SaltMsgpack.Deserialize(File.ReadAllBytes(file)) is IReadOnlyDictionary<string, object?> load && load.TryGetValue("return", out var r) ? (r, info.LastWriteTimeUtc) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or MessagePack.MessagePackSerializationException)
        {
            return null;
        }
    }

    /// <summary>salt.utils.jid.jid_dir's hash of the jid, in hex.</summary>
    private static string? Hash(string hashType, string jid)
    {
        var bytes = Encoding.UTF8.GetBytes(jid);
        byte[]? digest = hashType switch
        {
#pragma warning disable CA5351, CA5350 // Salt's hash_type names a folder here, it protects nothing
            "md5" => MD5.HashData(bytes),
            "sha1" => SHA1.HashData(bytes),
#pragma warning restore CA5351, CA5350
            "sha256" => SHA256.HashData(bytes),
            "sha384" => SHA384.HashData(bytes),
            "sha512" => SHA512.HashData(bytes),
            _ => null,
        };
        return digest is null ? null : Convert.ToHexStringLower(digest);
    }
}
