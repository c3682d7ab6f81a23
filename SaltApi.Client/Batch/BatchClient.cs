using SaltApi.Abstractions.Errors;
using SaltApi.Client.Config;
using SaltApi.Client.Local;

namespace SaltApi.Client.Batch;

/// <summary>LocalClient.cmd_subset and cmd_batch (spec/03 §5.3–5.4).</summary>
internal sealed class BatchClient(LocalClient local, ClientOptions options)
{
    public Task<object?> SubsetAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        _ = local;
        _ = options;
        _ = lowstate;
        _ = ct;
        throw new SaltClientException("local_subset is not implemented yet", "NotImplementedError");
    }

    public Task<IReadOnlyList<object?>> BatchAsync(IReadOnlyDictionary<string, object?> lowstate, CancellationToken ct)
    {
        _ = local;
        _ = lowstate;
        _ = ct;
        throw new SaltClientException("local_batch is not implemented yet", "NotImplementedError");
    }
}
