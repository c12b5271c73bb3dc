using System.Diagnostics;
using Outbox.Grains.Storage;
using Outbox.Grains.Hosting;

namespace Outbox.Tools.Bench;

/// <summary>
/// The fastest this database drains the backlog with the relay's own statements (read_batch.sql and
/// complete_batch.sql through <see cref="OutboxStore"/>) when publishing costs nothing: every partition
/// runs the relay's drain loop (the next read overlapping the last completion) with the silo's batch size,
/// over a pool built exactly like the silo's. The relay's
/// backlog rate is judged against it.
/// </summary>
internal static class DatabaseCeiling
{
    private const string Owner = "bench-ceiling";

    /// <summary>Drains the outbox to empty; returns rows removed and seconds taken.</summary>
    public static async Task<(long Rows, double Seconds)> DrainAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await using var dataSource = OutboxDataSources.CreateRelay(new OutboxOptions
        {
            ConnectionString = environment.ConnectionString,
            MaxPoolSize = settings.PoolSize,
        });
        var store = new OutboxStore(dataSource, auditPublished: false);
        var partitions = Enumerable.Range(0, settings.Partitions).ToArray();
        var epochs = new long[settings.Partitions];
        foreach (var p in partitions) epochs[p] = await store.ActivateAsync(p, Owner, cancellationToken).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        var removed = await Task.WhenAll(partitions.Select(p => Task.Run(async () =>
        {
            // The relay's drain loop without Kafka: the next read overlaps the previous batch's completion.
            long total = 0;
            var batch = (await store.ReadBatchAsync(p, epochs[p], start: 0, inFlight: [], settings.BatchSize, int.MaxValue, cancellationToken).ConfigureAwait(false)).Rows;
            while (batch.Count > 0)
            {
                var ids = new long[batch.Count];
                for (var i = 0; i < ids.Length; i++) ids[i] = batch[i].Id;
                var completing = store.CompleteAsync(p, epochs[p], new BatchCompletion(ids, []), cancellationToken);
                var next = batch.Count == settings.BatchSize
                    ? ReadAfterAsync(store, p, epochs[p], ids[^1], settings.BatchSize, cancellationToken)
                    : Task.FromResult<IReadOnlyList<OutboxRow>>([]);
                await Task.WhenAll(completing, next).ConfigureAwait(false);
                total += (await completing.ConfigureAwait(false)).Removed;
                batch = await next.ConfigureAwait(false);
            }
            return total;
        }, cancellationToken))).ConfigureAwait(false);
        return (removed.Sum(), Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>The rows after <paramref name="last"/>: a ceiling needs no read position, the backlog is all committed.</summary>
    private static async Task<IReadOnlyList<OutboxRow>> ReadAfterAsync(OutboxStore store, int partition, long epoch, long last, int limit,
        CancellationToken cancellationToken) =>
        (await store.ReadBatchAsync(partition, epoch, start: last + 1, inFlight: [], limit, int.MaxValue, cancellationToken).ConfigureAwait(false)).Rows;
}
