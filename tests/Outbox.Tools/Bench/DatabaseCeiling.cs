using System.Diagnostics;
using System.Threading.Channels;
using Outbox.Grains.Storage;
using Outbox.Grains.Hosting;

namespace Outbox.Tools.Bench;

/// <summary>
/// The fastest this database drains the backlog with the relay's own statements when publishing costs nothing: one
/// connection reads batches of every partition with the reader's catch-up statement (maintain.sql, as many partitions per
/// statement as the relay reads) while another removes what was read with the completer's statement (complete.sql,
/// every batch read meanwhile in one statement), over a pool built exactly like the silo's. The relay's backlog rate
/// is judged against it: the difference is what publishing to Kafka and the grains cost.
/// </summary>
internal static class DatabaseCeiling
{
    private const string Owner = "bench-ceiling";

    /// <summary>Drains the outbox to empty; returns rows removed and seconds taken.</summary>
    public static async Task<(long Rows, double Seconds)> DrainAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var relay = new Grains.Relay.RelayOptions { BatchSize = settings.BatchSize };
        await using var dataSource = OutboxDataSources.CreateRelay(new OutboxOptions
        {
            ConnectionString = environment.ConnectionString,
            MaxPoolSize = settings.PoolSize,
        });
        var store = new OutboxStore(dataSource);
        var cursors = new Dictionary<int, (long Epoch, long Cursor)>();
        for (var p = 0; p < settings.Partitions; p++) cursors[p] = (await store.ActivateAsync(p, Owner, cancellationToken).ConfigureAwait(false), 0);
        await using var reader = new ChangeFeed(dataSource);
        await using var completer = new CompletionStatement(dataSource, auditPublished: false);
        var read = Channel.CreateBounded<(int Partition, long Epoch, BatchCompletion Completion)>(settings.Partitions);
        var maxReads = (int)Math.Max(1, 16L * 1024 * 1024 / relay.BatchMaxBytes);

        var started = Stopwatch.GetTimestamp();
        var removing = Task.Run(async () =>
        {
            long removed = 0;
            while (await read.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var batch = new List<(int, long, BatchCompletion)>();
                while (read.Reader.TryRead(out var next)) batch.Add(next);
                var results = await completer.CompleteAsync(batch, cancellationToken).ConfigureAwait(false);
                removed += results.Values.Sum(r => r.Removed);
            }
            return removed;
        }, cancellationToken);
        while (cursors.Count > 0)
        {
            var reads = cursors.Take(maxReads).Select(c => new CatchUpRead(c.Key, c.Value.Epoch, c.Value.Cursor)).ToArray();
            var result = await reader.MaintainAsync(Owner, new MaintenanceRequest(reads, [], []), relay.BatchSize, relay.BatchMaxBytes, relay.BatchSize,
                cancellationToken).ConfigureAwait(false);
            var rows = result.Rows.ToLookup(r => r.Partition, r => RowRef.Of(r.Row));
            foreach (var summary in result.Reads)
            {
                var epoch = cursors[summary.Partition].Epoch;
                if (rows[summary.Partition].Any())
                    await read.Writer.WriteAsync((summary.Partition, epoch, new BatchCompletion([.. rows[summary.Partition]], [], [])), cancellationToken)
                        .ConfigureAwait(false);
                if (summary.ReachedEnd) cursors.Remove(summary.Partition);
                else cursors[summary.Partition] = (epoch, summary.LastCovered!.Value + 1);
            }
        }
        read.Writer.Complete();
        var total = await removing.ConfigureAwait(false);
        return (total, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
