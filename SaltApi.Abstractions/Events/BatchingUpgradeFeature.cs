using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;

namespace SaltApi.Abstractions.Events;

/// <summary>
/// The request's upgrade, handing out the connection as a <see cref="BatchingStream"/>. Added by <see cref="Use"/>
/// before <c>UseWebSockets</c>; a WebSocket handler then finds the stream with
/// <c>(ctx.Features.Get&lt;IHttpUpgradeFeature&gt;() as BatchingUpgradeFeature)?.Stream</c> once it has accepted.
/// </summary>
public sealed class BatchingUpgradeFeature : IHttpUpgradeFeature
{
    private readonly IHttpUpgradeFeature inner;

    /// <summary>Wraps the server's upgrade <paramref name="inner"/>.</summary>
    public BatchingUpgradeFeature(IHttpUpgradeFeature inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
    }

    /// <summary>The connection once upgraded.</summary>
    public BatchingStream? Stream { get; private set; }

    /// <inheritdoc/>
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <inheritdoc/>
    public async Task<Stream> UpgradeAsync() => Stream = new BatchingStream(await inner.UpgradeAsync().ConfigureAwait(false));

    /// <summary>Before <c>UseWebSockets</c> (which takes the upgrade feature as the request comes in).</summary>
    public static void Use(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((ctx, next) =>
        {
            if (ctx.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                ctx.Features.Set<IHttpUpgradeFeature>(new BatchingUpgradeFeature(upgrade));
            }

            return next(ctx);
        });
    }
}
