namespace SaltApi.EmbeddedMaster.Auth;

/// <summary>
/// Salt's LoadAuth.time_auth: a failed eauth attempt is padded to a random time in
/// [0.75·M, 1.25·M], where M starts at 1 s and grows to the slowest failure seen (anti timing attack).
/// </summary>
internal sealed class FailureDelay(double initialSeconds)
{
    private double maxFail = initialSeconds;
    private readonly Lock gate = new();

    /// <summary>Waits out the remainder of the padded time for an attempt that started at <paramref name="started"/>.</summary>
    public async Task PadAsync(long started, CancellationToken ct = default)
    {
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        double m;
        lock (gate)
        {
            if (elapsed > maxFail)
            {
                maxFail = Math.Min(elapsed, 60); // bounded: one very slow backend must not stall every later failure for ever
            }

            m = maxFail;
        }

        var deviation = m / 4;
        var target = m - deviation + (Random.Shared.NextDouble() * 2 * deviation);
        var remaining = target - elapsed;
        if (remaining > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(remaining), ct);
        }
    }
}
