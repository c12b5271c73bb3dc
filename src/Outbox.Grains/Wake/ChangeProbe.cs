using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Wake;

/// <summary>
/// The wake path: every few milliseconds one statement asks which watched partitions have rows committed since the
/// last look, and wakes only those. Nothing runs in the writers' transactions (unlike a NOTIFY, which serialises
/// their commits database-wide). It sees rows of transactions that commit out of id order too (see
/// probe_changes.sql), and feeds the silo's settled horizon, which moves the partitions' read positions forward.
/// A change missed while the probe could not reach the database is found by the partitions' sweep.
/// </summary>
internal sealed partial class ChangeProbe(NpgsqlDataSource dataSource, OutboxStore store, IPartitionWaker waker, IOptions<WakeOptions> options,
    ILogger<ChangeProbe> logger)
{
    private static readonly string ProbeSql = Read("probe_changes.sql");
    private static readonly string WritersSql = Read("outbox_writers.sql");
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    // Per partition: the id up to which its rows were reported (or are settled and were not visible).
    private readonly Dictionary<int, long> _marks = [];
    private long[] _previousXip = [];
    private long _previousXmax;
    private long _previousSettled;

    /// <summary>Probes until cancelled; <paramref name="watched"/> names the partitions to look at each time.</summary>
    public async Task RunAsync(Func<IReadOnlyCollection<int>> watched, CancellationToken cancellationToken)
    {
        var wake = options.Value;
        using var timer = new PeriodicTimer(wake.ProbeInterval);
        var lastLongTransactionCheck = Stopwatch.GetTimestamp();
        // Starts as "back after a failure": logs that it runs and wakes whatever is active already.
        var reachable = false;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var partitions = watched();
                    // Back after a failure: commits in between were not seen, so every watched partition drains once.
                    if (!reachable)
                    {
                        foreach (var partition in partitions) waker.Wake(partition);
                        reachable = true;
                        LogProbing(logger);
                    }
                    await ProbeAsync(partitions, cancellationToken).ConfigureAwait(false);
                    if (Stopwatch.GetElapsedTime(lastLongTransactionCheck) >= wake.LongTransactionCheck)
                    {
                        lastLongTransactionCheck = Stopwatch.GetTimestamp();
                        await ForgetLongTransactionsAsync(wake.LongTransactionCheck, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    // Mostly the database out of reach; anything else must not end the probe for the silo's lifetime
                    // either (the sweep would then be the only wake path): log it, wait, probe again.
                    if (reachable) LogProbeFailed(logger, e);
                    reachable = false;
                    await Task.Delay(ReconnectDelay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the loop ends here by design.
        }
    }

    /// <summary>One probe: wakes each of <paramref name="partitions"/> that has rows committed since the last probe.</summary>
    public async Task ProbeAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0) return;
        var ids = partitions.ToArray();
        var marks = Array.ConvertAll(ids, p => _marks.GetValueOrDefault(p));
        var settled = store.Horizon.Settled;
        var sequenceBefore = store.Horizon.SequenceSeen;
        await using var command = dataSource.CreateCommand(ProbeSql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter("partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = ids });
        p.Add(new NpgsqlParameter("marks", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = marks });
        p.Add(new NpgsqlParameter("previous_xip", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = _previousXip });
        p.AddWithValue("previous_xmax", _previousXmax);
        p.AddWithValue("settled", _previousSettled);
        long sequence = 0;
        TransactionSnapshot? snapshot = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var partition = reader.GetInt32(0);
                var mark = Math.Max(_marks.GetValueOrDefault(partition), settled);
                if (!reader.IsDBNull(1))
                {
                    var newest = reader.GetInt64(1);
                    if (newest > mark) mark = newest;
                    waker.Wake(partition);
                }
                else if (!reader.IsDBNull(2) && reader.GetBoolean(2))
                {
                    waker.Wake(partition);
                }
                _marks[partition] = mark;
                sequence = reader.GetInt64(3);
                snapshot ??= new TransactionSnapshot(reader.GetInt64(4), reader.GetInt64(5), reader.GetFieldValue<long[]>(6).ToHashSet());
            }
        }
        if (snapshot is null) return;
        store.Horizon.Observe(sequenceBefore, sequence, snapshot);
        _previousXip = [.. snapshot.InProgress];
        _previousXmax = snapshot.Xmax;
        _previousSettled = settled;
    }

    /// <summary>Stops waiting for long transactions that hold no outbox id (see outbox_writers.sql).</summary>
    private async Task ForgetLongTransactionsAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        var holding = store.Horizon.HoldingBack(age);
        if (holding.Count == 0) return;
        // Every id at or below this was handed out before the lock check below is sent (SettledHorizon.Forget).
        var checkedAfter = store.Horizon.SequenceSeen;
        await using var command = dataSource.CreateCommand(WritersSql);
        command.Parameters.Add(new NpgsqlParameter("xids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = holding.ToArray() });
        var writers = new HashSet<long>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) writers.Add(reader.GetInt64(0));
        }
        store.Horizon.Forget(holding.Where(x => !writers.Contains(x)).ToArray(), checkedAfter);
    }

    private static string Read(string file) => SqlResource.Read(typeof(ChangeProbe).Assembly, "Sql." + file);

    [LoggerMessage(EventId = OutboxEventId.ChangeProbeRunning, Level = LogLevel.Information, Message = "Change probe running")]
    private static partial void LogProbing(ILogger logger);

    [LoggerMessage(EventId = OutboxEventId.ChangeProbeFailed, Level = LogLevel.Warning, Message = "Change probe failed (the database out of reach?); retrying every second, the sweep covers the gap")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);
}
