using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outbox.Inbox.Diagnostics;
using Outbox.Inbox.Storage;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Applies a batch of one Kafka partition's events in one transaction of the service's database: claims their ids
/// (a copy already recorded is skipped), checks each key's order, calls the handler for the rest in Kafka order,
/// parks what must wait, and commits. Only a committed batch counts; anything else rolls back whole, so the
/// caller may run the same batch again.
/// </summary>
internal sealed partial class InboxApplier(NpgsqlDataSource dataSource, HandlerScopes handlers, InboxOptions options, ILogger logger)
{
    internal const string Failed = "failed";
    internal const string Waiting = "waiting";
    internal const string Late = "late";

    private string Group => options.GroupId;

    /// <summary>The consumer's own pool of the service's database.</summary>
    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>
    /// Runs <paramref name="batch"/> (non-empty, one topic and partition, Kafka order) in one transaction. Returns
    /// the counts of a committed batch, or the index of the event whose handler failed (nothing committed).
    /// Database and other infrastructure failures throw: the whole batch is retried.
    /// </summary>
    public async Task<BatchOutcome> ApplyAsync(IReadOnlyList<InboxEvent> batch, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var topic = batch[0].Topic;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var state = await InboxStore.ClaimAsync(tx, Group, topic, batch, cancellationToken).ConfigureAwait(false);
        var counts = new BatchCounts();
        var parkings = new List<Parking>();
        await using (var scope = handlers.Begin())
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var e = batch[i];
                // Remove, not Contains: a second copy inside the same batch is a duplicate too.
                if (!state.Claimed.Remove(e.EventId))
                {
                    counts.Duplicates++;
                    continue;
                }
                if (e.Key is { } key && state.Blocked.Contains(key))
                {
                    parkings.Add(new Parking(e, Waiting));
                    counts.ParkedWaiting++;
                    continue;
                }
                var late = e is { Key: { } k, Sequence: { } s } && state.Positions.TryGetValue(k, out var position) && s <= position;
                if (late)
                {
                    counts.Late++;
                    LogLate(logger, Group, e.Topic, e.Partition, e.Offset, e.EventId, e.Key, e.Sequence, state.Positions[e.Key!], options.LateEvents);
                    if (options.LateEvents == LateEventAction.Park)
                    {
                        parkings.Add(new Parking(e, Late));
                        counts.ParkedLate++;
                        continue;
                    }
                }
                if (await InvokeAsync(scope, e, tx, cancellationToken).ConfigureAwait(false) is { } failure)
                    return BatchOutcome.HandlerFailed(i, failure);
                counts.Applied++;
                // A late event applied on request does not move its key back.
                if (!late && e is { Key: { } appliedKey, Sequence: { } sequence }) state.Positions[appliedKey] = sequence;
            }
        }
        await InboxStore.ParkAsync(tx, Group, parkings, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var parking in parkings.Where(p => p.Reason == Late))
            LogParked(logger, Group, parking.Event.Topic, parking.Event.Partition, parking.Event.Offset, parking.Event.EventId, parking.Event.Key, Late, null);
        return BatchOutcome.Committed(counts, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Parks a poison event as failed (claiming it in the same transaction): its key's later events wait behind it.
    /// Returns false when its id was recorded meanwhile (another member applied it), in which case nothing is parked.
    /// </summary>
    public async Task<bool> ParkFailedAsync(InboxEvent e, int attempts, Exception error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var state = await InboxStore.ClaimAsync(tx, Group, e.Topic, [e], cancellationToken).ConfigureAwait(false);
        if (state.Claimed.Count == 0) return false;
        await InboxStore.ParkAsync(tx, Group, [new Parking(e, Failed, Describe(error), attempts)], cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        LogParked(logger, Group, e.Topic, e.Partition, e.Offset, e.EventId, e.Key, Failed, error);
        return true;
    }

    /// <summary>Records a dead-lettered event's id, so a redelivered copy is not dead-lettered again.</summary>
    public async Task RecordAsync(InboxEvent e, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await InboxStore.ClaimAsync(tx, Group, e.Topic, [e], cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies a released parked event: takes it out of inbox.parked and runs the handler in one transaction.
    /// Returns null when applied (or discarded meanwhile), else the handler's failure (nothing committed).
    /// </summary>
    public async Task<Exception?> ApplyParkedAsync(ParkedEvent parked, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await InboxStore.UnparkAsync(tx, parked.Id, cancellationToken).ConfigureAwait(false)) return null;
        await using (var scope = handlers.Begin())
        {
            if (await InvokeAsync(scope, parked.Event, tx, cancellationToken).ConfigureAwait(false) is { } failure) return failure;
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        var e = parked.Event;
        LogParkedApplied(logger, Group, e.Topic, e.Partition, e.Offset, e.EventId, e.Key, parked.Reason);
        return null;
    }

    /// <summary>
    /// Calls the handler under a span that continues the producer's trace. Returns the handler's exception when it
    /// failed for this event; a transient database error (the connection or the server, not the event) throws.
    /// </summary>
    private async Task<Exception?> InvokeAsync(HandlerScope scope, InboxEvent e, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        using var activity = InboxTracing.StartProcess(e, Group);
        try
        {
            await scope.Handler.HandleAsync(e, tx, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (!IsInfrastructure(ex, tx, cancellationToken))
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return ex;
        }
    }

    /// <summary>
    /// Failures that are not the event's: the database unreachable or restarting, the connection broken, a
    /// transient server condition (deadlock, serialization failure), or being stopped. These are retried forever;
    /// counting them against the event would park healthy events during an outage.
    /// </summary>
    internal static bool IsInfrastructure(Exception e, NpgsqlTransaction tx, CancellationToken cancellationToken) =>
        e is OperationCanceledException && cancellationToken.IsCancellationRequested
        || e is NpgsqlException { IsTransient: true }
        || e is NpgsqlException && tx.Connection is not { State: System.Data.ConnectionState.Open };

    internal static string Describe(Exception error) => $"{error.GetType().Name}: {error.Message}";

    [LoggerMessage(EventId = InboxEventId.LateEvent, Level = LogLevel.Warning,
        Message = "Group {Group}: event {EventId} ({Topic}/{Partition}@{Offset}, key {Key}) has sequence {Sequence}, below its key's position {Position}: late ({Action})")]
    private static partial void LogLate(ILogger logger, string group, string topic, int partition, long offset, Guid eventId, string? key, long? sequence,
        long position, LateEventAction action);

    [LoggerMessage(EventId = InboxEventId.EventParked, Level = LogLevel.Warning,
        Message = "Group {Group}: event {EventId} ({Topic}/{Partition}@{Offset}, key {Key}) parked ({Reason})")]
    private static partial void LogParked(ILogger logger, string group, string topic, int partition, long offset, Guid eventId, string? key, string reason,
        Exception? exception);

    [LoggerMessage(EventId = InboxEventId.ParkedApplied, Level = LogLevel.Information,
        Message = "Group {Group}: parked event {EventId} ({Topic}/{Partition}@{Offset}, key {Key}, was {Reason}) applied")]
    private static partial void LogParkedApplied(ILogger logger, string group, string topic, int partition, long offset, Guid eventId, string? key, string reason);
}

/// <summary>A batch's result: committed with its counts, or failed in the handler of one event (nothing committed).</summary>
internal readonly record struct BatchOutcome(BatchCounts Counts, TimeSpan Elapsed, int FailedIndex, Exception? Failure)
{
    public static BatchOutcome Committed(BatchCounts counts, TimeSpan elapsed) => new(counts, elapsed, -1, null);

    public static BatchOutcome HandlerFailed(int index, Exception failure) => new(default, TimeSpan.Zero, index, failure);
}
