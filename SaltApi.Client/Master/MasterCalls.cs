using SaltApi.Abstractions.Errors;
using SaltApi.Client.Request;
using SaltApi.Client.Config;
using SaltApi.Client.Diagnostics;
using SaltApi.Protocol.Values;

namespace SaltApi.Client.Master;

/// <summary>
/// Salt's <c>master_call</c> (runner, wheel) and the Resolver's <c>mk_token</c>/<c>get_token</c>:
/// one clear load, 60 s per attempt (1 s with <c>detect_mode</c>), 3 attempts, and an
/// <c>{"error": {...}}</c> reply raised as the named exception (spec/01 §5.7). Deliberate difference:
/// a call that may have reached the master is not sent again (see <see cref="RequestChannel"/>; its reply is waited
/// for over all 3 attempts' time, as long as Salt's client waits), and one
/// in flight when the master goes away fails at once (503).
/// </summary>
internal sealed class MasterCalls(RequestChannel channel, ClientOptions options)
{
    /// <summary>Salt's message when the request channel got no reply (SaltReqTimeoutError).</summary>
    public const string MessageTimedOut = "Message timed out";

    /// <summary>LocalClient.pub's message when the publish got no reply.</summary>
    public const string PublishTimedOut =
        "Salt request timed out. The master is not responding. You may need to run your command with `--async` in order to bypass the congested event bus. With `--async`, the CLI tool will print the job id (jid) and exit immediately without listening for responses. You can then use `salt-run jobs.lookup_jid` to look up the results of the job in the job cache later.";

    /// <summary>The master is down (no connection to it, its bus closed): MasterGoneException's message.</summary>
    public const string NotAvailable = "Salt Master is not available.";

    public const int Tries = 3;

    /// <summary>The master's refusal of a token it does not know, for the runner and wheel clients (spec/01 §5.4, §5.5).</summary>
    public const string TokenRefused = "Authentication failure of type \"token\" occurred.";

    /// <summary>The master's refusal of a publish, and the ssh client's (spec/01 §5.3).</summary>
    public const string PublishRefused = "Authentication error occurred.";

    /// <summary>master_call: the reply, with error maps raised.</summary>
    public async Task<object?> CallAsync(IEnumerable<KeyValuePair<string, object?>> load, CancellationToken ct)
    {
        // Salt raises SaltReqTimeoutError (503 in rest_cherrypy).
        var reply = await SendAsync(load, options.MasterCallTimeout, MessageTimedOut, ct).ConfigureAwait(false);
        if (reply is OrderedDictionary<string, object?> map && map.TryGetValue("error", out var error))
        {
            throw FromErrorMap(error);
        }

        return reply;
    }

    /// <summary>
    /// LocalClient.pub's request: the master's reply as it came (LocalClient checks it). Deliberate difference:
    /// Salt wraps a timeout into a generic SaltClientError (500); we report the master as unavailable (503).
    /// </summary>
    public Task<object?> PublishAsync(IEnumerable<KeyValuePair<string, object?>> load, TimeSpan perAttempt, CancellationToken ct) =>
        SendAsync(load, perAttempt, PublishTimedOut, ct);

    /// <summary>The one place a request channel error becomes the client's error: both are a 503.</summary>
    private async Task<object?> SendAsync(IEnumerable<KeyValuePair<string, object?>> load, TimeSpan perAttempt, string timedOut, CancellationToken ct)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "canceled";
        try
        {
            var reply = await channel.SendAsync(load, perAttempt, Tries, ct).ConfigureAwait(false);
            outcome = reply is OrderedDictionary<string, object?> map && map.ContainsKey("error") ? "error" : "ok";
            return reply;
        }
        catch (RequestTimeoutException e)
        {
            outcome = "unavailable";
            throw new SaltMasterUnavailableException(timedOut, e);
        }
        catch (MasterGoneException e)
        {
            outcome = "unavailable";
            throw new SaltMasterUnavailableException(e.Message, e);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            outcome = "error";
            throw;
        }
        finally
        {
            ClientMetrics.MasterRequestDuration.Record(
                System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds,
                new KeyValuePair<string, object?>("call", ClientMetrics.CallName(load)),
                new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    /// <summary>salt.utils.error.raise_error: the exception class named by the master.</summary>
    public static SaltApiException FromErrorMap(object? error)
    {
        if (error is not OrderedDictionary<string, object?> e)
        {
            return new SaltClientException(PyValue.Str(error), "SaltException");
        }

        var name = e.GetValueOrDefault("name") as string ?? "SaltException";
        var message = ErrorMessage(e);
        return name switch
        {
            "EauthAuthenticationError" or "TokenAuthenticationError" or "UserAuthenticationError" or "AuthenticationError"
                => new SaltAuthenticationException(message, name),
            "AuthorizationError" => new SaltAuthorizationException(message),
            "SaltInvocationError" => new SaltInvocationException(message),
            _ => new SaltClientException(message, name),
        };
    }

    // raise_error builds the exception from error.args when present, else error.message; str() of it.
    private static string ErrorMessage(OrderedDictionary<string, object?> e)
    {
        if (e.TryGetValue("args", out var args) && args is List<object?> list && list.Count > 0)
        {
            return list.Count == 1 ? PyValue.Str(list[0]) : "(" + string.Join(", ", list.Select(PyValue.Repr)) + ")";
        }

        return PyValue.Str(e.GetValueOrDefault("message"));
    }
}
