using SaltApi.Protocol.Config;

namespace SaltApi.Client.Netapi;

/// <summary>
/// What to tell an operator whose master config has no <c>netapi_enable_clients</c> (or an empty one):
/// since Salt 3006 every lowstate client is then refused, which SaltGUI, alcali and Uyuni users meet
/// as a bare "Client disabled". Said once at start and in the refusal's body.
/// </summary>
public static class EnableClientsHint
{
    /// <summary>A line to add to the master config that enables the clients the usual API clients call.</summary>
    public const string Example = "netapi_enable_clients: [local, local_async, local_batch, local_subset, runner, runner_async, wheel, wheel_async]";

    /// <summary>The sentence added to Salt's "Client disabled" text when the list is empty.</summary>
    public const string EmptyListSentence = "The master config's netapi_enable_clients is missing or empty, so every client is disabled (since Salt 3006); list the clients to allow, e.g. " + Example + ".";

    /// <summary>The start warning when modules are enabled and the list is empty; null when it is not.</summary>
    public static string? StartWarning(MasterConfig master, IReadOnlyCollection<string> modules)
    {
        ArgumentNullException.ThrowIfNull(master);
        ArgumentNullException.ThrowIfNull(modules);
        if (master.NetapiEnableClients.Count > 0 || modules.Count == 0)
        {
            return null;
        }

        return $"netapi_enable_clients is missing or empty in the master config ({master.ConfFile}): "
            + $"{string.Join(", ", modules)} will refuse every lowstate client ({string.Join(", ", ClientKind.Names)}) "
            + $"with 400 \"Client disabled\"; /login, /jobs, /events and /hook still work. Add the clients to allow, e.g. {Example}";
    }
}
