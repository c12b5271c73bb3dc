using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;
using Polly;

namespace Outbox.Grains.Relay;

/// <summary>The relays active in this silo, by partition; routes triggers to them.</summary>
public sealed class PartitionDirectory : IPartitionActivator
{
    private readonly ConcurrentDictionary<int, PartitionRelay> _active = new();
    private readonly OutboxStore _store;
    private readonly IOutboxPublisher _publisher;
    private readonly ExactlyOnceStartup _exactlyOnce;
    private readonly RelayOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<PartitionRelay> _logger;

    public PartitionDirectory(OutboxStore store, IOutboxPublisher publisher, ExactlyOnceStartup exactlyOnce, IOptions<RelayOptions> options, RelayMetrics metrics,
        SiloIdentity identity, ILogger<PartitionRelay> logger)
    {
        _store = store;
        _publisher = publisher;
        _exactlyOnce = exactlyOnce;
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        Owner = identity.Name;
        _retry = RelayRetryPipeline.Create(_options, logger);
    }

    /// <summary>The name written as owner of the partitions this silo activates.</summary>
    public string Owner { get; }

    /// <summary>Partitions with a running relay, and their epochs.</summary>
    public IReadOnlyDictionary<int, long> ActiveEpochs =>
        _active.Where(kv => !kv.Value.IsFenced).ToDictionary(kv => kv.Key, kv => kv.Value.Epoch);

    public async Task ActivateAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(partitions, cancellationToken, async (partition, ct) =>
        {
            if (_active.TryGetValue(partition, out var running) && !running.IsFenced) return;
            var relay = await PartitionRelay.ActivateAsync(partition, Owner, _store, _publisher, _exactlyOnce, _options, _retry, _metrics, _logger, ct)
                .ConfigureAwait(false);
            if (_active.TryGetValue(partition, out var fenced)) fenced.Dispose();
            _active[partition] = relay;
        }).ConfigureAwait(false);
    }

    public Task RevokeAsync(IReadOnlyCollection<int> partitions) => StopAsync(partitions, relay => relay.StopGracefullyAsync());

    public Task LoseAsync(IReadOnlyCollection<int> partitions) => StopAsync(partitions, relay => relay.StopNowAsync());

    private Task StopAsync(IReadOnlyCollection<int> partitions, Func<PartitionRelay, Task> stop) =>
        Task.WhenAll(partitions.Select(async p =>
        {
            if (!_active.TryRemove(p, out var relay)) return;
            await stop(relay).ConfigureAwait(false);
            relay.Dispose();
        }));

    /// <summary>Wakes the partition's relay if this silo runs it; false when it does not.</summary>
    public bool Trigger(int partition)
    {
        if (!_active.TryGetValue(partition, out var relay)) return false;
        relay.Trigger();
        return true;
    }

    /// <summary>Finishes every in-flight batch and stops all relays (graceful shutdown).</summary>
    public Task StopAllAsync() => RevokeAsync(_active.Keys.ToArray());
}
