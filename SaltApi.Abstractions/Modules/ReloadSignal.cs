namespace SaltApi.Abstractions.Modules;

/// <summary>
/// The daemon's request to re-read what a module reads from disk while it runs (its certificates), raised on
/// SIGHUP. A module that serves TLS subscribes to <see cref="Requested"/>; handlers run on the signal's thread
/// and must return quickly.
/// </summary>
public sealed class ReloadSignal
{
    /// <summary>Raised once per request.</summary>
    public event Action? Requested;

    /// <summary>Asks every subscriber to reload.</summary>
    public void Raise() => Requested?.Invoke();
}
