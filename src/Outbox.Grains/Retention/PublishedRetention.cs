using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Hosting;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Retention;

/// <summary>
/// Keeps outbox.published (the audit copy of published messages) at its retention: on every interval it deletes
/// rows older than Relay:AuditRetention in bounded batches until none is left. Pending messages live in
/// outbox.messages and are never touched. Every silo runs it; they share the work (SKIP LOCKED).
/// </summary>
internal sealed partial class PublishedRetention([FromKeyedServices(OutboxDataSources.Relay)] NpgsqlDataSource dataSource, IOptions<RelayOptions> relay, IOptions<RetentionOptions> options,
    ILogger<PublishedRetention> logger) : BackgroundService
{
    private static readonly string PurgeSql = SqlResource.Read(typeof(PublishedRetention).Assembly, "Sql.purge_published.sql");

    /// <summary>Purges expired audit rows every <see cref="RetentionOptions.Interval"/> until the host stops.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = relay.Value.AuditRetention;
        if (retention <= TimeSpan.Zero) return; // nothing is audited, so there is nothing to expire
        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            try
            {
                var removed = await PurgeAsync(retention, options.Value.BatchSize, stoppingToken).ConfigureAwait(false);
                if (removed > 0) LogPurged(logger, removed, retention);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // The database is away; the next interval tries again and nothing is lost by waiting.
                LogPurgeFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Deletes audit rows older than <paramref name="retention"/>, <paramref name="batchSize"/> per statement; returns how many.</summary>
    public async Task<long> PurgeAsync(TimeSpan retention, int batchSize, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(PurgeSql);
            command.Parameters.AddWithValue("retention", retention);
            command.Parameters.AddWithValue("batch_size", batchSize);
            var removed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            total += removed;
            if (removed < batchSize) return total;
        }
    }

    [LoggerMessage(EventId = OutboxEventId.RetentionPurged, Level = LogLevel.Information, Message = "Retention removed {Count} audit rows older than {Retention}")]
    private static partial void LogPurged(ILogger logger, long count, TimeSpan retention);

    [LoggerMessage(EventId = OutboxEventId.RetentionPurgeFailed, Level = LogLevel.Warning, Message = "Retention purge failed; retrying at the next interval")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
