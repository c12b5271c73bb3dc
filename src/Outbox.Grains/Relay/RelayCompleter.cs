using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// Completes the published batches of every partition of the silo, one statement at a time on one connection: the
/// completions that arrive while a statement runs go together into the next one, so under load a statement completes
/// many partitions' batches, and at rest a batch is completed as soon as it is acknowledged.
/// </summary>
internal sealed class RelayCompleter : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CompletionStatement _statement;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public RelayCompleter(NpgsqlDataSource dataSource, IOptions<RelayOptions> options)
    {
        var relay = options.Value;
        _statement = new CompletionStatement(dataSource, auditPublished: relay.AuditRetention > TimeSpan.Zero);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>
    /// Completes <paramref name="completion"/> of <paramref name="partition"/> under <paramref name="epoch"/>. Throws
    /// <see cref="PartitionFencedException"/> when a newer epoch owns the partition, and what the database threw when
    /// the statement failed (the caller completes the same batch again).
    /// </summary>
    public async Task<CompletionResult> CompleteAsync(int partition, long epoch, BatchCompletion completion, CancellationToken cancellationToken)
    {
        var request = new Request(partition, epoch, completion);
        await _requests.Writer.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        var result = await request.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result.Current ? result : throw new PartitionFencedException(partition, epoch);
    }

    // Stops after the partitions did: they complete their last batches while deactivating, at a later lifecycle stage.
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RelayCompleter), ServiceLifecycleStage.ApplicationServices, _ => Task.CompletedTask, StopAsync);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _statement.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stopping.IsCancellationRequested) await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _requests.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var batch = new List<Request>();
                // One request per partition in a statement: a partition completes one batch at a time, but a retried
                // completion may meet its own earlier attempt here.
                var partitions = new HashSet<int>();
                while (reader.TryPeek(out var next) && partitions.Add(next.Partition) && reader.TryRead(out next)) batch.Add(next);
                try
                {
                    var results = await _statement.CompleteAsync(batch.Select(r => (r.Partition, r.Epoch, r.Completion)).ToArray(), cancellationToken)
                        .ConfigureAwait(false);
                    foreach (var request in batch) request.Done.TrySetResult(results[request.Partition]);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // The outcome is unknown (the connection may have dropped mid-commit): every partition completes the
                    // same batch again, which is harmless if it did commit (complete.sql is idempotent).
                    await _statement.ResetAsync().ConfigureAwait(false);
                    foreach (var request in batch) request.Done.TrySetException(e);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: what is still queued fails below.
        }
        while (reader.TryRead(out var left)) left.Done.TrySetCanceled(cancellationToken);
    }

    private sealed record Request(int Partition, long Epoch, BatchCompletion Completion)
    {
        public TaskCompletionSource<CompletionResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
