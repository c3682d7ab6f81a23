using System.Net;
using System.Text;
using SaltApi.Abstractions.Client;
using SaltApi.NetapiKit.Tokens;
using SaltApi.RestCherrypyCompat.Tests.Module;

namespace SaltApi.RestCherrypyCompat.Tests.Sessions;

/// <summary>
/// /logout leaves the refusal of the token to the client layer (every module of the daemon asks it): the
/// module keeps no list of its own, says 503 when the client could neither end nor refuse the token, and
/// never caches a session lookup that overlapped the logout.
/// </summary>
public sealed class LogoutSessionTests
{
    [Fact]
    public async Task A_logout_the_client_cannot_record_is_a_503_and_the_session_is_not_reported_ended()
    {
        await using var host = await ModuleHost.StartAsync();
        var token = await host.LoginAsync("limited");
        host.Client.CannotRemoveTokens = true;

        using var logout = new HttpRequestMessage(HttpMethod.Post, "logout") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        logout.Headers.Add("X-Auth-Token", token);
        using var response = await host.Http.SendAsync(logout);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
        Assert.Contains("The session could not be ended", body, StringComparison.Ordinal);
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var set) ? set : [];
        Assert.DoesNotContain(cookies, c => c.StartsWith("session_id=;", StringComparison.Ordinal)); // not ended: the cookie stays
    }

    [Fact]
    public async Task A_session_lookup_that_overlapped_a_logout_is_not_cached()
    {
        var client = new GatedClient();
        var sessions = new TokenCheck(client, TimeProvider.System);
        var token = GatedClient.Token;

        // A request looks the session up; the master answers only after the logout has happened.
        var lookup = sessions.ValidateAsync(token.Token, CancellationToken.None);
        await client.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        sessions.Forget(token);
        client.Known = false; // the logout: the client refuses the token from now on
        client.Answer.SetResult(token);
        Assert.NotNull(await lookup); // that request began before the logout

        // The next request asks again (nothing was cached) and is refused.
        Assert.Null(await sessions.ValidateAsync(token.Token, CancellationToken.None));
        Assert.Equal(2, client.Calls);
    }

    /// <summary>A client whose first get_token waits until the test answers it.</summary>
    private sealed class GatedClient : INetapiClient
    {
        public static readonly SaltToken Token = new(new string('a', 64), "limited", "file", 0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600, null);

        private int calls;
        private volatile bool known = true;

        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<SaltToken?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Known { get => known; set => known = value; }

        public int Calls => Volatile.Read(ref calls);

        public IReadOnlyList<string> Clients => [];

        public Task<SaltToken?> GetTokenAsync(string token, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                Asked.SetResult();
                return Answer.Task;
            }

            return Task.FromResult(Known ? Token : null);
        }

        public Task<IReadOnlyList<object?>> RunAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<SaltToken?> MakeTokenAsync(string eauth, string username, string password, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IReadOnlyList<object?>? Permissions(SaltToken token) => null;

        public Task<bool> FireEventAsync(string tag, IReadOnlyDictionary<string, object?> data, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
