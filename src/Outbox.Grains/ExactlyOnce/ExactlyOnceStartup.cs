using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// Starts the exactly-once mode with the silo (when <c>Relay:Delivery=ExactlyOnce</c>): the progress topic is
/// found or created before any partition grain activates, so a topic that cannot be used stops the silo at start-up
/// with its message instead of failing every partition later. Partitions get the started mode from here.
/// </summary>
internal sealed class ExactlyOnceStartup(IOptions<RelayOptions> relay, IOptions<ExactlyOnceOptions> options, RelayCompleter completer,
    OutboxStore store, ILoggerFactory loggers, IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly TaskCompletionSource<ExactlyOnceDelivery> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Enabled => relay.Value.Delivery == DeliveryMode.ExactlyOnce;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExactlyOnceStartup), ServiceLifecycleStage.ApplicationServices, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled) return;
        var host = services.GetRequiredService<ExactlyOnceHost>();
        try
        {
            _started.SetResult(await ExactlyOnceDelivery.StartAsync(host.Connection, host.ProducerSettings, options.Value, host.OutboxPartitions, completer, store,
                services.GetRequiredService<Publishing.HeaderMode>(), loggers, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            throw;
        }
    }

    /// <summary>The started mode; waits for the start-up if it is still running.</summary>
    public Task<ExactlyOnceDelivery> DeliveryAsync(CancellationToken cancellationToken) => Enabled
        ? _started.Task.WaitAsync(cancellationToken)
        : throw new InvalidOperationException($"{RelayOptions.Section}:{nameof(RelayOptions.Delivery)} is not {DeliveryMode.ExactlyOnce}.");
}
