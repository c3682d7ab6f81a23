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
    public async Task After_three_failures_an_address_has_one_check_at_a_time_and_other_addresses_are_not_held()
    {
        var throttle = new AuthThrottle(100);

        // Before its failures an address may have several checks at once.
        var x = await throttle.EnterAsync(Flooder, CancellationToken.None);
        var y = await throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.NotNull(x);
        Assert.NotNull(y);
        x!.Dispose();
        y!.Dispose();

        await FailAsync(throttle, Flooder, AuthThrottle.FailuresBeforeSlowing);
        using var one = await throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.NotNull(one);
        var second = throttle.EnterAsync(Flooder, CancellationToken.None);
        Assert.False(second.IsCompleted); // the first holds the address's one turn

        // Another address is not held back.
        var user = throttle.EnterAsync(User, CancellationToken.None);
        Assert.True(user.IsCompletedSuccessfully);
        (await user)!.Dispose();

        one!.Failed();
        one.Dispose();
        using var two = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(two);
    }

    [Fact]
    public async Task A_slowed_address_has_at_most_16_attempts_waiting_the_rest_are_refused_at_once()
    {
        var throttle = new AuthThrottle(100);
        await FailAsync(throttle, Flooder, AuthThrottle.FailuresBeforeSlowing);
        using var cancel = new CancellationTokenSource();
        // One holds the address's turn, 16 wait for it.
        var waiting = Enumerable.Range(0, AuthThrottle.MaxWaitingPerAddress + 1).Select(_ => throttle.EnterAsync(Flooder, cancel.Token)).ToList();
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
