using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Hosting;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Wake;

/// <summary>
/// LISTENs on the outbox_drain channel (outbox.request_drain() and the enqueue function NOTIFY it) and turns
/// each notification for a partition active in this silo into a grain call to it. NOTIFY is transactional, so
/// a wake-up arrives only for committed rows. Every silo hears every notification; each acts on its own
/// partitions only, so a notification costs one local call, not one per silo. After a lost connection all
/// local partitions are woken, since notifications may have been missed.
/// </summary>
internal sealed partial class NotificationListener(IOptions<OutboxOptions> options, ActivePartitions active, IPartitionWaker waker,
    ILogger<NotificationListener> logger) : BackgroundService
{
    public const string Channel = "outbox_drain";

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>True while the LISTEN connection is up.</summary>
    public bool IsListening { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Its own unpooled connection: LISTEN holds a session for the silo's lifetime and must not take a
        // slot of the relay's bounded pool.
        var connectionString = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString)
        {
            Pooling = false,
            ApplicationName = "outbox-relay-listener",
            KeepAlive = 10,
        }.ConnectionString;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                await using (var listen = new NpgsqlCommand($"listen {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                IsListening = true;
                LogListening(logger);
                WakeAll();
                while (!stoppingToken.IsCancellationRequested)
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                IsListening = false;
                LogListenFailed(logger, e);
                await Task.Delay(ReconnectDelay, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private void OnNotification(string payload)
    {
        if (int.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
            waker.Wake(partition);
    }

    private void WakeAll()
    {
        foreach (var partition in active.Partitions()) waker.Wake(partition);
    }

    [LoggerMessage(EventId = OutboxEventId.NotificationsListening, Level = LogLevel.Information, Message = "Listening for outbox notifications")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(EventId = OutboxEventId.NotificationsLost, Level = LogLevel.Warning, Message = "Notification connection lost; reconnecting, the sweep covers the gap")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);
}
