using System.Diagnostics;
using Outbox.Grains.Storage;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Bench;

/// <summary>
/// The fastest this database drains the backlog with the relay's own statements (read_batch.sql and
/// complete_batch.sql through <see cref="OutboxStore"/>) when publishing costs nothing: every partition
/// loops read -> complete with the silo's batch size, over a pool built exactly like the silo's. The relay's
/// backlog rate is judged against it.
/// </summary>
internal static class DatabaseCeiling
{
    private const string Owner = "bench-ceiling";

    /// <summary>Drains the outbox to empty; returns rows removed and seconds taken.</summary>
    public static async Task<(long Rows, double Seconds)> DrainAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await using var dataSource = SiloHost.CreateDataSource(new OutboxOptions
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
            long total = 0;
            while (true)
            {
                var batch = await store.ReadBatchAsync(p, epochs[p], settings.BatchSize, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0) return total;
                var ids = new long[batch.Count];
                for (var i = 0; i < ids.Length; i++) ids[i] = batch[i].Id;
                var result = await store.CompleteAsync(p, epochs[p], new BatchCompletion(ids, []), cancellationToken).ConfigureAwait(false);
                total += result.Removed;
            }
        }, cancellationToken))).ConfigureAwait(false);
        return (removed.Sum(), Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
