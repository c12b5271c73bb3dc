using Microsoft.Extensions.Logging;
using Npgsql;
using Outbox.Inbox.Diagnostics;
using Outbox.Inbox.Storage;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Keeps inbox.received bounded: every Inbox:PurgeInterval, the group's ids older than Inbox:Retention are deleted in
/// statements of Inbox:PurgeBatchSize rows until none is left, so no purge holds many locks or writes a burst of
/// WAL. Several instances of one service purge side by side (skip locked).
/// </summary>
internal static partial class InboxRetention
{
    public static async Task RunAsync(NpgsqlDataSource dataSource, InboxOptions options, InboxTelemetry telemetry, ILogger logger,
        CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.PurgeInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                await PurgeExpiredAsync(dataSource, options, telemetry, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>One purge pass; returns the rows it removed.</summary>
    public static async Task<long> PurgeExpiredAsync(NpgsqlDataSource dataSource, InboxOptions options, InboxTelemetry telemetry, ILogger logger,
        CancellationToken cancellationToken)
    {
        long total = 0;
        try
        {
            int purged;
            do
            {
                purged = await InboxStore.PurgeAsync(dataSource, options.GroupId, options.Retention, options.PurgeBatchSize, cancellationToken)
                    .ConfigureAwait(false);
                total += purged;
            }
            while (purged == options.PurgeBatchSize);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            LogPurgeFailed(logger, e, options.GroupId);
        }
        if (total > 0)
        {
            telemetry.Purged(options.GroupId, total);
            LogPurged(logger, options.GroupId, total, options.Retention);
        }
        return total;
    }

    [LoggerMessage(EventId = InboxEventId.Purged, Level = LogLevel.Information, Message = "Group {Group}: purged {Rows} event id(s) older than {Retention}")]
    private static partial void LogPurged(ILogger logger, string group, long rows, TimeSpan retention);

    [LoggerMessage(EventId = InboxEventId.PurgeFailed, Level = LogLevel.Warning, Message = "Group {Group}: purging expired event ids failed; the next interval retries")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception, string group);
}
