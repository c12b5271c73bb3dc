using System.Diagnostics;
using Confluent.Kafka;
using Npgsql;

namespace Outbox.Tools.Bench;

/// <summary>
/// The relay as the classic outbox ADRs describe it, as the baseline the real relay is compared with: every
/// second, read 100 NEW rows; publish them one at a time, awaiting each acknowledgement; mark each row SENT
/// with its own UPDATE. Correct, and slow by construction: a round trip to Kafka and one to the database
/// per message, and an idle wait between polls.
/// </summary>
internal sealed class NaiveRelay(NpgsqlDataSource dataSource, string bootstrapServers)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Relays for <paramref name="duration"/>; returns messages published and marked, and seconds taken.</summary>
    public async Task<(long Sent, double Seconds)> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        // Acks from all replicas and the producer's other defaults (linger.ms 5, no idempotence), as the
        // classic examples configure it.
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, Acks = Acks.All }).Build();
        using var timer = new PeriodicTimer(PollInterval);
        var started = Stopwatch.GetTimestamp();
        long sent = 0;
        do
        {
            foreach (var (id, topic, key, payload) in await PollAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Stopwatch.GetElapsedTime(started) >= duration) break;
                await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = payload }, cancellationToken).ConfigureAwait(false);
                await MarkSentAsync(id, cancellationToken).ConfigureAwait(false);
                sent++;
            }
        }
        while (Stopwatch.GetElapsedTime(started) < duration && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        return (sent, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<List<(long Id, string Topic, string Key, byte[] Payload)>> PollAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(BenchSql.NaiveSelect);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<(long, string, string, byte[])>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3)));
        return rows;
    }

    private async Task MarkSentAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(BenchSql.NaiveMarkSent);
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
