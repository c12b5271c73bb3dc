using Confluent.Kafka;
using Npgsql;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Tools.Bench;

/// <summary>
/// The cost yardstick of the steady scenario, not a relay: a plain polling loop on the outbox table. Every interval it
/// reads the oldest rows (<c>order by id limit N</c>, one statement), produces them all with a producer configured
/// exactly like the relay's (idempotent, acks=all, the relay's own settings and message mapping), waits for every
/// acknowledgement, and removes the acknowledged rows with one DELETE. It knows nothing of partitions' owners, epochs,
/// schedules, parked rows or crashes, and keeps a key's order only because the bench's writers commit a key's events
/// one after another: it runs as a child process (<c>bench-poller</c>) so that its own CPU can be measured apart.
/// </summary>
internal sealed class BaselinePoller(NpgsqlDataSource database, string bootstrapServers, TimeSpan interval, int batchSize)
{
    /// <summary>The application_name of its database session, by which the bench finds its backend.</summary>
    public const string ApplicationName = "outbox-poller";

    public async Task RunAsync(Action ready, CancellationToken cancellationToken)
    {
        var config = RelayProducerFactory.CreateConfig(new KafkaOptions { BootstrapServers = bootstrapServers }, ApplicationName);
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(BenchSql.PollerSelect, connection);
        select.Parameters.AddWithValue("limit", batchSize);
        await using var delete = new NpgsqlCommand(BenchSql.PollerDelete, connection);
        var partitions = new NpgsqlParameter<int[]>("partitions", []);
        var ids = new NpgsqlParameter<long[]>("ids", []);
        delete.Parameters.Add(partitions);
        delete.Parameters.Add(ids);
        // Prepared, as a poller that runs the same two statements a hundred times a second would be.
        await select.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await delete.PrepareAsync(cancellationToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(interval);
        ready();
        do
        {
            var rows = await ReadAsync(select, cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0) continue;
            var acknowledged = await ProduceAsync(producer, rows, cancellationToken).ConfigureAwait(false);
            if (acknowledged.Count == 0) continue;
            partitions.TypedValue = acknowledged.Select(r => r.Partition).ToArray();
            ids.TypedValue = acknowledged.Select(r => r.Row.Id).ToArray();
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private static async Task<List<(int Partition, OutboxRow Row)>> ReadAsync(NpgsqlCommand select, CancellationToken cancellationToken)
    {
        var rows = new List<(int, OutboxRow)>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add((reader.GetInt32(0), new OutboxRow(reader.GetInt64(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                reader.GetFieldValue<byte[]>(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8), null, null)));
        }
        return rows;
    }

    /// <summary>Produces every row and waits for every report; returns the rows Kafka acknowledged (the others stay for the next poll).</summary>
    private static async Task<List<(int Partition, OutboxRow Row)>> ProduceAsync(IProducer<byte[], byte[]> producer, List<(int Partition, OutboxRow Row)> rows,
        CancellationToken cancellationToken)
    {
        var acknowledged = new bool[rows.Count];
        var pending = rows.Count;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < rows.Count; i++)
        {
            var index = i;
            var (partition, row) = rows[i];
            producer.Produce(row.Topic, OutboxMessageMapper.ToKafka(row, partition, null, null), report =>
            {
                acknowledged[index] = !report.Error.IsError;
                if (Interlocked.Decrement(ref pending) == 0) done.TrySetResult();
            });
        }
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return rows.Where((_, i) => acknowledged[i]).ToList();
    }
}
