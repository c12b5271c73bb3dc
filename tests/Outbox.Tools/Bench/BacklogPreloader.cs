using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;

namespace Outbox.Tools.Bench;

/// <summary>
/// Fills the outbox with a backlog of committed rows over every partition, with binary COPY on a couple of
/// connections, then vacuums and analyzes the table.
/// </summary>
internal static class BacklogPreloader
{
    private const int Streams = 2;

    public static async Task LoadAsync(NpgsqlDataSource dataSource, BenchSettings settings, string topic, CancellationToken cancellationToken)
    {
        var partitionOfKey = Enumerable.Range(0, settings.Keys)
            .Select(k => OutboxPartitioner.PartitionOf(BenchData.Key(k), settings.Partitions)).ToArray();
        var perStream = (settings.Messages + Streams - 1) / Streams;
        await Task.WhenAll(Enumerable.Range(0, Streams).Select(s =>
        {
            var first = s * perStream;
            var count = Math.Min(perStream, settings.Messages - first);
            return CopyAsync(dataSource, settings, topic, partitionOfKey, first, count, cancellationToken);
        })).ConfigureAwait(false);
        await using var vacuum = dataSource.CreateCommand(BenchSql.VacuumMessages);
        await vacuum.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task CopyAsync(NpgsqlDataSource dataSource, BenchSettings settings, string topic, int[] partitionOfKey,
        int first, int count, CancellationToken cancellationToken)
    {
        if (count <= 0) return;
        var random = new Random(first);
        var createdAt = DateTime.UtcNow;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var importer = await connection.BeginBinaryImportAsync(BenchSql.CopyMessages, cancellationToken).ConfigureAwait(false);
        for (var i = first; i < first + count; i++)
        {
            var keyIndex = random.Next(settings.Keys);
            var key = BenchData.Key(keyIndex);
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(partitionOfKey[keyIndex], NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(topic, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(key, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(BenchData.Payload(key, i, settings.PayloadBytes), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(BenchData.HeadersJson, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(BenchData.EventType, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(createdAt, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        }
        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }
}
