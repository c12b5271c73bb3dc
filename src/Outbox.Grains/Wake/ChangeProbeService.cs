using Orleans;
using Orleans.Runtime;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Wake;

/// <summary>Runs the change probe over the partitions active in this silo while the silo is active.</summary>
internal sealed class ChangeProbeService(ChangeProbe probe, ActivePartitions active) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ChangeProbeService), ServiceLifecycleStage.Active, OnActive, OnStopping);

    private Task OnActive(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => probe.RunAsync(active.Partitions, _stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopping(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();
}
