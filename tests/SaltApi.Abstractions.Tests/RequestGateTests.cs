using System.Diagnostics.Metrics;
using SaltApi.Abstractions.Client;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

public class RequestGateTests
{
    [Fact]
    public async Task Full_pool_and_full_queue_refuse_at_once()
    {
        using var gate = new RequestGate(1, 0, TimeSpan.FromMinutes(1));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        Assert.False(await gate.EnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await gate.EnterAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_queued_request_gets_the_slot_when_it_is_freed()
    {
        using var gate = new RequestGate(1, 1, TimeSpan.FromMinutes(1));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        var queued = gate.EnterAsync(CancellationToken.None);
        Assert.False(queued.IsCompleted);
        Assert.False(await gate.EnterAsync(CancellationToken.None));
        gate.Exit();
        Assert.True(await queued);
    }

    [Fact]
    public async Task Slots_in_use_and_waiting_are_what_the_gate_holds_and_come_back_to_zero()
    {
        InOwnModule();
        using var gate = new RequestGate(2, 4, TimeSpan.FromMinutes(1));
        Assert.Equal((0, 0), Observe(gate));

        // Two threads hammer the gate at once; whatever interleaving, the gauge reads the gate, not a running sum.
        var hammer = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 2000; i++)
            {
                Assert.True(await gate.EnterAsync(CancellationToken.None));
                gate.Exit();
            }
        })).ToArray();
        await Task.WhenAll(hammer);
        Assert.Equal((0, 0), Observe(gate));

        Assert.True(await gate.EnterAsync(CancellationToken.None));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        var queued = new[] { gate.EnterAsync(CancellationToken.None), gate.EnterAsync(CancellationToken.None), gate.EnterAsync(CancellationToken.None) };
        Assert.Equal((2, 3), Observe(gate));
        gate.Exit();
        Assert.True(await queued[0]);
        Assert.Equal((2, 2), Observe(gate));
        for (var i = 0; i < 4; i++)
        {
            gate.Exit();
        }

        Assert.True(await queued[1] && await queued[2]);
        Assert.Equal((0, 0), Observe(gate));
    }

    [Fact]
    public async Task A_disposed_gate_is_no_longer_observed()
    {
        InOwnModule();
        var gate = new RequestGate(2, 0, TimeSpan.FromMinutes(1));
        Assert.True(await gate.EnterAsync(CancellationToken.None));
        Assert.Equal((1, 0), Observe(gate));
        gate.Dispose();
        Assert.Equal((0, 0), Observe(gate));
    }

    // A module of the test's own, so that other tests' gates (all "unknown") are not in its series.
    private static void InOwnModule() => NetapiCall.Begin().Module = $"test-{Guid.NewGuid():N}";

    // What a scrape would read of the gate's module: the observable instruments, measured now.
    private static (long InUse, long Waiting) Observe(RequestGate gate)
    {
        long inUse = 0, waiting = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "SaltApi.Netapi" && instrument.Name.StartsWith("saltapi.request.slots.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "module" && tag.Value as string == gate.ModuleName)
                {
                    if (instrument.Name.EndsWith("in_use", StringComparison.Ordinal))
                    {
                        inUse += value;
                    }
                    else
                    {
                        waiting += value;
                    }
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return (inUse, waiting);
    }
}
