using Microsoft.Extensions.Options;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Relay;

namespace Outbox.Silo.Hosting;

/// <summary>The ownership engine of a lone silo: it owns every partition from start to shutdown.</summary>
public sealed class SingleSiloOwnership(IOptions<OutboxOptions> options, IPartitionActivator activator, RelayMetrics metrics) : IOwnershipEngine
{
    private int[] _owned = [];

    public bool IsSettled { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _owned = Enumerable.Range(0, options.Value.PartitionCount).ToArray();
        await activator.ActivateAsync(_owned, cancellationToken).ConfigureAwait(false);
        metrics.Rebalances.Add(1);
        IsSettled = true;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IsSettled = false;
        await activator.RevokeAsync(_owned).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
