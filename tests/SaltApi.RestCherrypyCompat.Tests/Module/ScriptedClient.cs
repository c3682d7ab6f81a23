using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;

namespace SaltApi.RestCherrypyCompat.Tests.Module;

/// <summary>
/// A scripted <see cref="INetapiClient"/> for testing the HTTP module alone: it answers with
/// Salt's result shapes and errors; the end-to-end tests run the real client layer instead.
/// </summary>
internal sealed class ScriptedClient : INetapiClient
{
    public const string SaltdevToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public ConcurrentDictionary<string, SaltToken> Tokens { get; } = new();

    public ConcurrentQueue<IReadOnlyDictionary<string, object?>> Lowstates { get; } = new();

    public ConcurrentQueue<(string Tag, IReadOnlyDictionary<string, object?> Data)> Fired { get; } = new();

    public ScriptedBus Bus { get; } = new();

    public int GetTokenCalls;

    public IReadOnlyList<string> Clients { get; } = ["local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "ssh", "wheel", "wheel_async"];

    private static OrderedDictionary<string, object?> M(params (string K, object? V)[] kv)
    {
        var m = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in kv)
        {
            m[k] = v;
        }

        return m;
    }

    public Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> low, CancellationToken cancellationToken)
    {
        Lowstates.Enqueue(low);
        var client = low.GetValueOrDefault("client") as string;
        if (client is null || !Clients.Contains(client))
        {
            throw new SaltInvocationException($"Invalid client specified: '{client ?? "None"}'");
        }

        if (!low.ContainsKey("token") && !low.ContainsKey("eauth"))
        {
            throw new SaltAuthenticationException("No authentication credentials given");
        }

        if (low.GetValueOrDefault("token") is string t && !Tokens.ContainsKey(t))
        {
            throw new SaltAuthenticationException("Authentication error occurred.");
        }

        if (low.ContainsKey("eauth") && !(low.GetValueOrDefault("username") is "saltdev" && low.GetValueOrDefault("password") is "saltdev"))
        {
            throw new SaltAuthenticationException("Authentication error occurred.");
        }

        var fun = low.GetValueOrDefault("fun") as string;
        object? result = (client, fun) switch
        {
            (_, "test.timeout") => throw new SaltTimeoutException("RunnerClient job '1' timed out"),
            (_, "test.down") => throw new SaltMasterUnavailableException("Salt Master is not available."),
            (_, "test.acl") => throw new SaltAuthorizationException("Authorization error occurred."),
            (_, null) => throw new SaltClientException("missing fun"),
            ("local", "grains.items") => M((low.GetValueOrDefault("tgt") as string == "*" ? "ms--0" : (string)low["tgt"]!, M(("id", "ms--0")))),
            ("local", _) => M(("ms--0", true), ("ms--1", true)),
            ("local_async", _) => M(("jid", "20261126171352452203"), ("minions", new List<object?> { "ms--0", "ms--1" })),
            ("local_batch", _) => null,
            ("runner", "jobs.list_jobs") => M(("20261126171352452203", M(("Function", "test.ping")))),
            ("runner", "jobs.list_job") => M(("jid", low.GetValueOrDefault("jid")), ("Function", "test.ping"),
                ("Result", M(("ms--0", M(("return", true), ("retcode", 0L), ("success", true)))))),
            ("wheel", "key.list_all") => M(("tag", "salt/wheel/1"), ("data", M(("fun", "wheel.key.list_all"), ("return", M(("minions", new List<object?> { "ms--0" }))), ("success", true)))),
            ("wheel", "key.finger") => M(("tag", "salt/wheel/1"), ("data", M(("return", M(("minions", M((low.GetValueOrDefault("match") as string ?? "", "aa:bb")))))))),
            ("wheel", "key.gen_accept") => M(("tag", "salt/wheel/1"), ("data", M(("return", M(("pub", "PUB " + low.GetValueOrDefault("id_")), ("priv", "PRIV")))))),
            _ => M(("args", low.GetValueOrDefault("arg")), ("kwargs", M())),
        };
        if (client == "local_batch")
        {
            return Task.FromResult<IReadOnlyList<object?>>([M(("ms--0", true)), M(("ms--1", true))]);
        }

        return Task.FromResult<IReadOnlyList<object?>>([result]);
    }

    public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken)
    {
        if (eauth != "file" || password != "saltdev" || username is not ("saltdev" or "limited"))
        {
            return Task.FromResult<SaltToken?>(null);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var value = username == "saltdev" && !Tokens.ContainsKey(SaltdevToken) ? SaltdevToken : Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var token = new SaltToken(value, username, eauth, now, now + 3600, ["users"]);
        Tokens[value] = token;
        return Task.FromResult<SaltToken?>(token);
    }

    public Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref GetTokenCalls);
        return Task.FromResult(Tokens.TryGetValue(token, out var t) ? t : null);
    }

    /// <summary>When set, RemoveTokenAsync can neither delete a token nor refuse it (a full list of revoked tokens).</summary>
    public bool CannotRemoveTokens { get; set; }

    public Task<bool> RemoveTokenAsync(string token, CancellationToken cancellationToken) =>
        Task.FromResult(!CannotRemoveTokens && Tokens.TryRemove(token, out _));

    public IReadOnlyList<object?>? Permissions(SaltToken token) => token.Name == "saltdev" ? [".*", "@runner"] : null;

    public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken)
    {
        Fired.Enqueue((tag, data));
        Bus.Publish(new SaltEvent(tag, data));
        return Task.FromResult(true);
    }
}

/// <summary>An in-memory bus: every event to every subscriber.</summary>
internal sealed class ScriptedBus : IEventStream
{
    private readonly ConcurrentDictionary<Sub, bool> subs = new();

    public int Subscribers => subs.Count;

    public IEventSubscription Subscribe()
    {
        var s = new Sub(this);
        subs[s] = true;
        return s;
    }

    public void Publish(SaltEvent e)
    {
        foreach (var s in subs.Keys)
        {
            s.Channel.Writer.TryWrite(e);
        }
    }

    private sealed class Sub(ScriptedBus bus) : IEventSubscription
    {
        public Channel<SaltEvent> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<SaltEvent>(1000);

        public ChannelReader<SaltEvent> Reader => Channel.Reader;

        public void Dispose() => bus.subs.TryRemove(this, out _);
    }
}

/// <summary>Keeps log lines for assertions.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
}
