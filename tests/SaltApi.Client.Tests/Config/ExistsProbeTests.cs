using SaltApi.Client.Config;

namespace SaltApi.Client.Tests.Config;

/// <summary>The master-file checks made before every call: a file seen is remembered briefly, a missing one never.</summary>
public sealed class ExistsProbeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("probe-").FullName;

    private string FilePath => Path.Combine(dir, "master.running");

    [Fact]
    public void A_file_that_appears_is_seen_at_once()
    {
        var probe = new ExistsProbe(FilePath);
        Assert.False(probe.Exists());
        File.WriteAllText(FilePath, "");
        Assert.True(probe.Exists());
    }

    [Fact]
    public async Task A_file_that_goes_away_is_seen_missing_once_its_sighting_is_stale()
    {
        File.WriteAllText(FilePath, "");
        var probe = new ExistsProbe(FilePath);
        Assert.True(probe.Exists());
        File.Delete(FilePath);

        // Environment.TickCount64 steps by the kernel's coarse clock: wait well past FreshMs.
        await Task.Delay(TimeSpan.FromMilliseconds((ExistsProbe.FreshMs * 2) + 50));
        Assert.False(probe.Exists());
        Assert.False(probe.Exists());
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
