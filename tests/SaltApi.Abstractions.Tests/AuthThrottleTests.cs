using System.Net;
using SaltApi.Abstractions.Hosting;

namespace SaltApi.Abstractions.Tests;

/// <summary>The login throttle: credential checks outside the request gate, slowed per client address after failures.</summary>
public class AuthThrottleTests
{
    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.3");
    private static readonly IPAddress User = IPAddress.Parse("127.0.0.2");

    private static async Task FailAsync(AuthThrottle throttle, IPAddress address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var attempt = await throttle.EnterAsync(address, CancellationToken.None);
            Assert.NotNull(attempt);
            attempt.Failed();
        }
    }

    [Fact]
    public async Task After_three_failures_an_address_waits_its_turn_one_at_a_time_and_other_addresses_do_not()
    {
        var throttle = new AuthThrottle(100);
        await FailAsync(throttle, Flooder, AuthThrottle.FailuresBeforeSlowing);

        var first = throttle.EnterAsync(Flooder, CancellationToken.None);
        var second = throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.False(first.IsCompleted);

        // Another address is not slowed.
        var user = throttle.EnterAsync(User, CancellationToken.None);
        Assert.True(user.IsCompletedSuccessfully);
        using (var u = await user)
        {
            Assert.NotNull(u);
        }

        // The first of the slowed address gets its turn after its pause; the second only once the first is over.
        using var one = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(one);
        var released = false;
        var order = second.ContinueWith(_ => Volatile.Read(ref released), TaskScheduler.Default);

        // Time for the second's pause to pass: it must still wait for the first to end.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Volatile.Write(ref released, true);
        one!.Failed();
        one.Dispose();
        using var two = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(two);
        Assert.True(await order, "the second attempt of a slowed address ran while the first was in flight");
    }

    [Fact]
    public async Task A_slowed_address_has_at_most_16_attempts_waiting_the_rest_are_refused_at_once()
    {
        var throttle = new AuthThrottle(100);
        await FailAsync(throttle, Flooder, AuthThrottle.FailuresBeforeSlowing);
        using var cancel = new CancellationTokenSource();
        var waiting = Enumerable.Range(0, AuthThrottle.MaxWaitingPerAddress).Select(_ => throttle.EnterAsync(Flooder, cancel.Token)).ToList();
        var refused = throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.True(refused.IsCompletedSuccessfully);
        Assert.Null(await refused);
        await cancel.CancelAsync();
        foreach (var w in waiting)
        {
            try
            {
                (await w)?.Dispose();
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task Checks_in_flight_are_bounded_and_a_success_forgets_the_failures()
    {
        var throttle = new AuthThrottle(2);
        var a = await throttle.EnterAsync(User, CancellationToken.None);
        var b = await throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.Null(await throttle.EnterAsync(User, CancellationToken.None));
        a!.Dispose();
        b!.Dispose();

        await FailAsync(throttle, User, AuthThrottle.FailuresBeforeSlowing - 1);
        using (var ok = await throttle.EnterAsync(User, CancellationToken.None))
        {
            ok!.Succeeded();
        }

        Assert.Equal(0, throttle.Count);
        await FailAsync(throttle, User, AuthThrottle.FailuresBeforeSlowing - 1);
        Assert.True(throttle.EnterAsync(User, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task The_table_of_addresses_is_bounded()
    {
        var throttle = new AuthThrottle(10);
        for (var i = 0; i < AuthThrottle.MaxAddresses + 100; i++)
        {
            var address = new IPAddress(BitConverter.GetBytes(0x0A000000 + i).Reverse().ToArray());
            await FailAsync(throttle, address, 1);
        }

        Assert.Equal(AuthThrottle.MaxAddresses, throttle.Count);
    }
}
