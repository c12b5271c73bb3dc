using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// The completion of a batch Kafka already acknowledged, kept until it is known to have committed. When a
/// completion fails for any reason but fencing (the database restarted, the connection dropped mid-commit),
/// the relay's next attempt completes that same batch again under the same epoch before it reads anything,
/// so an acknowledged batch is removed by its still-current owner instead of being read and published again.
/// Completing twice is harmless: removing ids already removed removes nothing, and parking skips rows already
/// parked (complete_batch.sql), so an outcome that was in fact committed is not counted twice. The fence is
/// the same statement's, as strong as on the first try: a newer epoch refuses the retry and stops the relay.
/// </summary>
internal sealed class AcknowledgedCompletion(OutboxStore store, int partition, long epoch)
{
    private BatchCompletion? _unconfirmed;

    /// <summary>Completes <paramref name="completion"/>; until that commits it stays owed.</summary>
    public async Task CompleteAsync(BatchCompletion completion, CancellationToken cancellationToken)
    {
        _unconfirmed = completion;
        await store.CompleteAsync(partition, epoch, completion, cancellationToken).ConfigureAwait(false);
        _unconfirmed = null;
    }

    /// <summary>Completes the batch whose completion failed last time, if any. Call before reading again.</summary>
    public Task SettleAsync(CancellationToken cancellationToken) =>
        _unconfirmed is { } owed ? CompleteAsync(owed, cancellationToken) : Task.CompletedTask;
}
