using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Publishing;

namespace Outbox.Grains.Hosting;

/// <summary>
/// Runs before any relay: applies migrations (when configured), checks that the database's partition count is
/// the configured one, and records the deployment's Kafka message size for the enqueue validation. Waits a
/// bounded time for a database that is still starting, then fails with a clear message rather than a stack trace
/// from deep inside. It works in <see cref="StartingAsync"/>, which the host runs before any hosted service's
/// <c>StartAsync</c>: the Orleans silo starts in its own, and its clustering may live in the tables migrated here.
/// </summary>
internal sealed partial class SchemaStartup([FromKeyedServices(OutboxDataSources.Relay)] NpgsqlDataSource dataSource,
    IOptions<OutboxOptions> options, IOptions<KafkaOptions> kafka, ILogger<SchemaStartup> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan WaitForDatabase = TimeSpan.FromSeconds(30);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var migrator = new OutboxMigrator(dataSource);
        var configured = options.Value.PartitionCount;
        var deadline = DateTime.UtcNow + WaitForDatabase;
        while (true)
        {
            try
            {
                if (options.Value.MigrateOnStart)
                {
                    var applied = await migrator.MigrateAsync(configured, cancellationToken).ConfigureAwait(false);
                    if (applied.Count > 0) LogMigrated(logger, applied.Count, applied[^1]);
                    await RecordMessageMaxBytesAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                var existing = await migrator.ReadPartitionCountAsync(cancellationToken).ConfigureAwait(false);
                if (existing is null)
                    throw new InvalidOperationException("The outbox schema is missing: run `outbox.sh migrate` or set Outbox:MigrateOnStart=true.");
                if (existing != configured)
                    throw new InvalidOperationException($"The outbox database has {existing} partitions but Outbox:PartitionCount is {configured}.");
                await RecordMessageMaxBytesAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NpgsqlException e) when (e is not PostgresException && DateTime.UtcNow < deadline)
            {
                LogWaiting(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e) when (e is not PostgresException)
            {
                throw new InvalidOperationException($"The outbox database is unreachable ({e.Message}); check Outbox:ConnectionString.", e);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>outbox.validate_message refuses, in the writer's transaction, a message larger than this deployment's Kafka accepts.</summary>
    private async Task RecordMessageMaxBytesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("update outbox.settings set message_max_bytes = @bytes where message_max_bytes <> @bytes");
        command.Parameters.AddWithValue("bytes", kafka.Value.MessageMaxBytes);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = OutboxEventId.SchemaMigrated, Level = LogLevel.Information, Message = "Applied {Count} outbox migration(s), schema now at version {Version}")]
    private static partial void LogMigrated(ILogger logger, int count, int version);

    [LoggerMessage(EventId = OutboxEventId.DatabaseWaiting, Level = LogLevel.Warning, Message = "Waiting for the outbox database")]
    private static partial void LogWaiting(ILogger logger, Exception exception);
}
