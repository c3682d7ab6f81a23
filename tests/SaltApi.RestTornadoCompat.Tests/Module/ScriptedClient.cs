using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Errors;
using SaltApi.Abstractions.Events;

namespace SaltApi.RestTornadoCompat.Tests.Module;

/// <summary>
/// A scripted <see cref="INetapiClient"/> for testing the module alone: Salt's result shapes and errors;
/// the end-to-end tests run the real client layer instead.
/// </summary>
internal sealed class ScriptedClient : INetapiClient
{
    public ConcurrentDictionary<string, SaltToken> Tokens { get; } = new();

    public ConcurrentQueue<IReadOnlyDictionary<string, object?>> Lowstates { get; } = new();

    public ConcurrentQueue<(string Tag, IReadOnlyDictionary<string, object?> Data)> Fired { get; } = new();

    public ScriptedBus Bus { get; } = new();

    public int GetTokenCalls;

    public IReadOnlyList<string> Clients { get; } = ["local", "local_async", "local_batch", "local_subset", "runner", "runner_async", "ssh", "wheel", "wheel_async"];

    public static OrderedDictionary<string, object?> M(params (string K, object? V)[] kv)
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
        if (low.GetValueOrDefault("token") is string t && !Tokens.ContainsKey(t))
        {
            throw new SaltAuthenticationException("Authentication error occurred.");
        }

        if (low.ContainsKey("eauth") && !(low.GetValueOrDefault("username") is "saltdev" && low.GetValueOrDefault("password") is "saltdev"))
        {
            throw new SaltAuthenticationException("Authentication error occurred.");
        }

        var client = low.GetValueOrDefault("client") as string;
        object? result = (client, low.GetValueOrDefault("fun") as string) switch
        {
            (_, "test.down") => throw new SaltMasterUnavailableException("Salt Master is not available."),
            (_, "test.acl") => throw new SaltAuthorizationException("Authorization error occurred."),
            (_, "test.crash") => throw new InvalidOperationException("boom"),
            ("local", "grains.items") => M((low.GetValueOrDefault("tgt") as string == "*" ? "ms--0" : (string)low["tgt"]!, M(("id", "ms--0")))),
            ("local", _) => M(("ms--0", true), ("ms--1", true)),
            ("local_async", _) => M(("jid", "20261126171352452203"), ("minions", new List<object?> { "ms--0", "ms--1" })),
            ("runner", "jobs.list_jobs") => M(("20261126171352452203", M(("Function", "test.ping")))),
            ("runner", "jobs.list_job") => M(("jid", low.GetValueOrDefault("jid")), ("Function", "test.ping")),
            ("runner", _) => M(("args", low.GetValueOrDefault("arg"))),
            ("runner_async", _) => M(("tag", "salt/run/20261126171352452204"), ("jid", "20261126171352452204")),
            _ => throw new SaltInvocationException($"Invalid client specified: '{client}'"),
        };
        return Task.FromResult<IReadOnlyList<object?>>([result]);
    }

    public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken)
    {
        if (eauth == "down")
        {
            throw new SaltMasterUnavailableException("Salt Master is not available.");
        }

        if (eauth != "file" || password != "saltdev" || username is not ("saltdev" or "limited"))
        {
            return Task.FromResult<SaltToken?>(null);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var token = new SaltToken(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), username, eauth, now, now + 3600, null);
        Tokens[token.Token] = token;
        return Task.FromResult<SaltToken?>(token);
    }

    public Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref GetTokenCalls);
        return Task.FromResult(Tokens.TryGetValue(token, out var t) ? t : null);
    }

    public IReadOnlyList<object?>? Permissions(SaltToken token) => token.Name == "saltdev" ? [".*", "@runner"] : null;

    public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken)
    {
        if (tag.EndsWith("/crash", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("boom");
        }

        Fired.Enqueue((tag, data));
        Bus.Publish(new SaltEvent(tag, data));
        return Task.FromResult(true);
    }
}

/// <summary>An in-memory bus: every event to every subscriber, each with a small bounded queue.</summary>
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
            if (!s.Channel.Writer.TryWrite(e))
            {
                s.Channel.Writer.TryComplete(new EventStreamOverflowException());
            }
        }
    }

    private sealed class Sub(ScriptedBus bus) : IEventSubscription
    {
        public Channel<SaltEvent> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<SaltEvent>(100);

        public ChannelReader<SaltEvent> Reader => Channel.Reader;

        public void Dispose() => bus.subs.TryRemove(this, out _);
    }
}

/// <summary>Keeps log lines for assertions.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    /// <summary>Waits (10 s at most) for a line containing <paramref name="text"/>, or for <paramref name="run"/> to end.</summary>
    public static async Task WaitForAsync(ListLogger logger, string text, Task? run = null)
    {
        for (var i = 0; i < 400 && !logger.Lines.Any(l => l.Contains(text, StringComparison.Ordinal)) && run is not { IsCompleted: true }; i++)
        {
            await Task.Delay(25);
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
}
