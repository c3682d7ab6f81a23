using SaltApi.Abstractions.Client;

namespace SaltApi.Abstractions.Tests.Access;

/// <summary>The modules' token cache obeys the daemon's revocation signal.</summary>
public sealed class TokenCacheTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch.AddDays(20_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A client whose get_token answers from a set of live tokens, counting calls; a logout revokes.</summary>
    private sealed class Tokens(Clock clock) : INetapiClient
    {
        public HashSet<string> Live { get; } = [];

        public int Lookups { get; private set; }

        public TaskCompletionSource? Hold { get; set; }

        public IReadOnlyList<string> Clients => [];

        private Action<string>? revoked;

        public int Listeners { get; private set; }

        public event Action<string>? TokenRevoked
        {
            add
            {
                revoked += value;
                Listeners++;
            }

            remove
            {
                revoked -= value;
                Listeners--;
            }
        }

        public async Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken)
        {
            Lookups++;
            var live = Live.Contains(token);
            if (Hold is { } hold)
            {
                await hold.Task;
            }

            var now = clock.Now.ToUnixTimeSeconds();
            return live ? new SaltToken(token, "saltdev", "file", now, now + 3600, null) : null;
        }

        public Task<bool> RemoveTokenAsync(string token, CancellationToken cancellationToken)
        {
            Live.Remove(token);
            revoked?.Invoke(token);
            return Task.FromResult(true);
        }

        public Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IReadOnlyList<object?>? Permissions(SaltToken token) => null;

        public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_revoked_token_is_refused_at_once_by_every_cache()
    {
        var clock = new Clock();
        var client = new Tokens(clock) { Live = { "aa" } };
        using var cherrypy = new TokenCache(client, clock);
        using var tornado = new TokenCache(client, clock);
        Assert.NotNull(await cherrypy.ValidateAsync("aa", CancellationToken.None));
        Assert.NotNull(await tornado.ValidateAsync("aa", CancellationToken.None));
        Assert.NotNull(await tornado.ValidateAsync("aa", CancellationToken.None));
        Assert.Equal(2, client.Lookups); // the second use of each cache is a hit

        Assert.True(await client.RemoveTokenAsync("aa", CancellationToken.None));
        Assert.Null(await cherrypy.ValidateAsync("aa", CancellationToken.None));
        Assert.Null(await tornado.ValidateAsync("aa", CancellationToken.None));
    }

    [Fact]
    public async Task A_lookup_that_overlapped_a_revocation_caches_nothing()
    {
        var clock = new Clock();
        var client = new Tokens(clock) { Live = { "aa" }, Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        using var cache = new TokenCache(client, clock);
        var lookup = cache.ValidateAsync("aa", CancellationToken.None); // answered "live" before the logout
        await client.RemoveTokenAsync("aa", CancellationToken.None);
        client.Hold.SetResult();
        client.Hold = null;
        Assert.NotNull(await lookup);
        Assert.Null(await cache.ValidateAsync("aa", CancellationToken.None));
    }

    [Fact]
    public async Task Positive_answers_lapse_and_expiry_is_checked_on_every_use()
    {
        var clock = new Clock();
        var client = new Tokens(clock) { Live = { "aa" } };
        using var cache = new TokenCache(client, clock);
        var token = await cache.ValidateAsync("aa", CancellationToken.None);
        client.Live.Clear(); // deleted on the master by another daemon: seen once the answer lapses
        clock.Now += TokenCache.DefaultLifetime - TimeSpan.FromSeconds(1);
        Assert.NotNull(await cache.ValidateAsync("aa", CancellationToken.None));
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Null(await cache.ValidateAsync("aa", CancellationToken.None));

        cache.Remember(token! with { Expire = clock.Now.ToUnixTimeSeconds() - 1 });
        Assert.Null(await cache.ValidateAsync("aa", CancellationToken.None));
    }

    [Fact]
    public async Task An_answer_near_its_lapse_is_asked_again_early_so_its_users_do_not_wait_on_the_master()
    {
        var clock = new Clock();
        var client = new Tokens(clock) { Live = { "aa" } };
        using var cache = new TokenCache(client, clock);
        Assert.NotNull(await cache.ValidateAsync("aa", CancellationToken.None));

        // In the last quarter of its life: answered from the cache, and asked again meanwhile.
        clock.Now += TokenCache.DefaultLifetime * 0.8;
        Assert.NotNull(await cache.ValidateAsync("aa", CancellationToken.None));
        await cache.Refreshing("aa").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, client.Lookups);

        // Past the first answer's lapse, a master that would now take its time is not waited on: the early answer serves.
        client.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Now += TokenCache.DefaultLifetime * 0.3;
        var lookup = cache.ValidateAsync("aa", CancellationToken.None);
        client.Hold.SetResult();
        Assert.True(lookup.IsCompleted);
        Assert.NotNull(await lookup);
        Assert.Equal(2, client.Lookups);
    }

    [Fact]
    public async Task An_early_lookup_that_finds_the_token_gone_drops_it()
    {
        var clock = new Clock();
        var client = new Tokens(clock) { Live = { "aa" } };
        using var cache = new TokenCache(client, clock);
        Assert.NotNull(await cache.ValidateAsync("aa", CancellationToken.None));
        client.Live.Clear(); // deleted on the master by another daemon
        clock.Now += TokenCache.DefaultLifetime * 0.8;
        Assert.NotNull(await cache.ValidateAsync("aa", CancellationToken.None)); // still within the answer's life
        await cache.Refreshing("aa").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(await cache.ValidateAsync("aa", CancellationToken.None));
    }

    [Fact]
    public void Disposed_caches_stop_listening()
    {
        var clock = new Clock();
        var client = new Tokens(clock);
        var cache = new TokenCache(client, clock);
        Assert.Equal(1, client.Listeners);
        cache.Dispose();
        Assert.Equal(0, client.Listeners);
    }
}
