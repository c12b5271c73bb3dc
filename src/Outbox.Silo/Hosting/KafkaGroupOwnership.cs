using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Relay;
using Outbox.Grains;
using Outbox.Silo.Kafka;

namespace Outbox.Silo.Hosting;

/// <summary>
/// Ownership through Kafka's consumer-group protocol (Cluster:Mode=group). Every silo joins one group and
/// subscribes to the coordination topic, which has one Kafka partition per outbox partition; Kafka's group
/// coordinator then decides who owns what and moves partitions when a silo joins, leaves or dies.
/// Assigned: the partition's relay is activated (a new epoch). Revoked: its in-flight batch finishes, then it
/// stops, before the group hands the partition on. Lost (the session expired): it stops at once.
/// <para>
/// The consumer runs on a thread of its own; Confluent.Kafka calls the rebalance handlers inside Consume on
/// that thread. Activation runs in the background so the thread keeps serving the group protocol (a member
/// that does not rejoin a rebalance in time is evicted); revoking and losing wait for it, and for the relays,
/// each for a bounded time. A separate
/// <see cref="PauseDetector"/> catches a process that stood still past half the session timeout: by then the
/// group may have given its partitions away, so they are all dropped at once, and only what the group
/// assigns after a quarantine of one session timeout is activated again, with new epochs.
/// </para>
/// </summary>
public sealed partial class KafkaGroupOwnership : IOwnershipEngine, IDisposable
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Assigned partitions whose activation failed or was fenced are retried this often.</summary>
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromSeconds(1);

    private readonly ClusterOptions _cluster;
    private readonly KafkaOptions _kafka;
    private readonly int _partitionCount;
    private readonly SiloIdentity _identity;
    private readonly IPartitionActivator _activator;
    private readonly RelayMetrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<KafkaGroupOwnership> _logger;
    private readonly TimeSpan _sessionTimeout;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Touched only on the consumer thread (the loop and the rebalance handlers it runs).
    private readonly HashSet<int> _assigned = [];

    private CancellationTokenSource? _activationCancel;
    private PauseDetector? _pauseDetector;
    private volatile Task _activation = Task.CompletedTask;
    private volatile bool _joined;
    private volatile bool _assignmentChanged;
    private volatile bool _allActive;
    private long _quarantineUntil;
    private int _pauses;

    public KafkaGroupOwnership(IOptions<ClusterOptions> cluster, IOptions<KafkaOptions> kafka, IOptions<OutboxOptions> outbox,
        SiloIdentity identity, IPartitionActivator activator, RelayMetrics metrics, IHostApplicationLifetime lifetime, ILogger<KafkaGroupOwnership> logger)
    {
        _metrics = metrics;
        _cluster = cluster.Value;
        _kafka = kafka.Value;
        _partitionCount = outbox.Value.PartitionCount;
        _identity = identity;
        _activator = activator;
        _lifetime = lifetime;
        _logger = logger;
        _sessionTimeout = TimeSpan.FromMilliseconds(_cluster.SessionTimeoutMs);
    }

    /// <summary>Joined the group, every assigned partition's relay is running, and no pause is being sat out.</summary>
    public bool IsSettled => _joined && !_assignmentChanged && _activation.IsCompleted && _allActive && !InQuarantine;

    private bool InQuarantine => Stopwatch.GetTimestamp() < Interlocked.Read(ref _quarantineUntil);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = OwnershipConsumerConfig.Connection(_kafka, _kafka.BootstrapServers, _identity.Name);
        await CoordinationTopic.EnsureAsync(connection, _cluster.CoordinationTopic, _partitionCount, _logger, cancellationToken).ConfigureAwait(false);
        var consumer = new ConsumerBuilder<Ignore, Ignore>(OwnershipConsumerConfig.Create(_cluster, connection))
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((_, partitions) => OnLost(partitions))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, error.Code, error.Reason))
            .SetLogHandler((_, message) => LogLibrdkafka(_logger, message.Facility, message.Message))
            .Build();
        consumer.Subscribe(_cluster.CoordinationTopic);
        LogJoining(_logger, _cluster.GroupId, _cluster.CoordinationTopic, _cluster.SessionTimeoutMs);
        new Thread(() => Run(consumer)) { IsBackground = true, Name = "outbox-ownership" }.Start();
        _pauseDetector = new PauseDetector(_sessionTimeout / 2, OnPause);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _pauseDetector?.Dispose();
        _pauseDetector = null;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Run(IConsumer<Ignore, Ignore> consumer)
    {
        var nextReconcile = 0L;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    // Nothing is ever produced to the coordination topic; polling serves the group protocol and
                    // runs the rebalance handlers.
                    consumer.Consume(PollTimeout);
                }
                catch (ConsumeException e)
                {
                    LogKafkaError(_logger, e.Error.Code, e.Error.Reason);
                }
                if (!_assignmentChanged && Stopwatch.GetTimestamp() < nextReconcile) continue;
                if (StartActivation()) nextReconcile = Stopwatch.GetTimestamp() + (long)(ReconcileEvery.TotalSeconds * Stopwatch.Frequency);
            }
            // Orderly exit: finish in-flight batches first, then leave the group so the others take over at once
            // (a static member does not leave: its partitions wait for it until its session times out).
            Revoke([.. _assigned]);
            consumer.Close();
        }
#pragma warning disable CA1031 // The thread's last resort: whatever broke it, the silo must not keep partitions unmanaged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogOwnershipFailed(_logger, e);
            Wait(_activator.LoseAsync(AllPartitions()), "lose");
            _lifetime.StopApplication();
        }
        finally
        {
            _joined = false;
            consumer.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        var assigned = partitions.Select(p => p.Partition.Value).Order().ToArray();
        _assigned.UnionWith(assigned);
        _joined = true;
        _assignmentChanged = true;
        _metrics.Rebalances.Add(1, new KeyValuePair<string, object?>("outbox.rebalance.kind", "assigned"));
        LogAssigned(_logger, assigned, _assigned.Count);
        StartActivation();
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        var revoked = partitions.Select(p => p.Partition.Value).Order().ToArray();
        _metrics.Rebalances.Add(1, new KeyValuePair<string, object?>("outbox.rebalance.kind", "revoked"));
        LogRevoked(_logger, revoked);
        Revoke(revoked);
    }

    private void OnLost(List<TopicPartitionOffset> partitions)
    {
        var lost = partitions.Select(p => p.Partition.Value).Order().ToArray();
        _assigned.ExceptWith(lost);
        _metrics.Rebalances.Add(1, new KeyValuePair<string, object?>("outbox.rebalance.kind", "lost"));
        LogLost(_logger, lost);
        InterruptActivation();
        Wait(_activator.LoseAsync(lost), "lose");
    }

    /// <summary>Lets in-flight batches finish (bounded), then stops the relays. A relay still busy past the bound
    /// finishes in the background; its next owner's epoch fences its late writes.</summary>
    private void Revoke(int[] partitions)
    {
        _assigned.ExceptWith(partitions);
        InterruptActivation();
        Wait(_activator.RevokeAsync(partitions), "revoke");
    }

    /// <summary>
    /// Before partitions are stopped, an activation that may include them must be over, or it could start a
    /// relay after the stop. Whatever it leaves out that is still assigned is activated on the next round.
    /// </summary>
    private void InterruptActivation()
    {
        _activationCancel?.Cancel();
        Wait(_activation, "activate");
    }

    /// <summary>
    /// Starts activating every assigned partition that has no running relay (new assignments, failed or fenced
    /// ones), unless an activation is still running or a pause is being sat out. False when it did not start.
    /// </summary>
    private bool StartActivation()
    {
        if (InQuarantine || _stopping.IsCancellationRequested || !_activation.IsCompleted) return false;
        _assignmentChanged = false;
        _activationCancel?.Dispose();
        _activationCancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _activationCancel.CancelAfter(_sessionTimeout);
        _activation = ActivateAsync([.. _assigned], Volatile.Read(ref _pauses), _activationCancel.Token);
        return true;
    }

    private async Task ActivateAsync(int[] partitions, int pauses, CancellationToken cancellationToken)
    {
        try
        {
            await _activator.ActivateAsync(partitions, cancellationToken).ConfigureAwait(false);
            _allActive = true;
        }
        catch (OperationCanceledException)
        {
            _allActive = false;
            if (!_stopping.IsCancellationRequested) LogActivationInterrupted(_logger, _sessionTimeout.TotalSeconds);
        }
        // A pause noticed while activating may have been missed by what was activated meanwhile.
        if (pauses != Volatile.Read(ref _pauses)) await _activator.LoseAsync(AllPartitions()).ConfigureAwait(false);
    }

    /// <summary>On the detector's thread: the process stood still; its partitions may already be someone else's.</summary>
    private void OnPause(TimeSpan gap)
    {
        Interlocked.Increment(ref _pauses);
        Interlocked.Exchange(ref _quarantineUntil, Stopwatch.GetTimestamp() + (long)(_sessionTimeout.TotalSeconds * Stopwatch.Frequency));
        LogPaused(_logger, gap.TotalSeconds, _sessionTimeout.TotalSeconds);
        Wait(_activator.LoseAsync(AllPartitions()), "lose");
    }

    private int[] AllPartitions() => Enumerable.Range(0, _partitionCount).ToArray();

    private void Wait(Task task, string what)
    {
        try
        {
            task.WaitAsync(_sessionTimeout).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            LogSlow(_logger, what, _sessionTimeout.TotalSeconds);
        }
    }

    public void Dispose()
    {
        _pauseDetector?.Dispose();
        _activationCancel?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = OutboxEventId.OwnershipJoining, Level = LogLevel.Information, Message = "Joining ownership group {GroupId} on {Topic} (session timeout {SessionTimeoutMs} ms)")]
    private static partial void LogJoining(ILogger logger, string groupId, string topic, int sessionTimeoutMs);

    [LoggerMessage(EventId = OutboxEventId.OwnershipAssigned, Level = LogLevel.Information, Message = "Assigned partitions [{Partitions}]; now owning {Count}")]
    private static partial void LogAssigned(ILogger logger, int[] partitions, int count);

    [LoggerMessage(EventId = OutboxEventId.OwnershipRevoked, Level = LogLevel.Information, Message = "Revoked partitions [{Partitions}]: finishing in-flight batches, then handing them on")]
    private static partial void LogRevoked(ILogger logger, int[] partitions);

    [LoggerMessage(EventId = OutboxEventId.OwnershipLost, Level = LogLevel.Warning, Message = "Lost partitions [{Partitions}] (group session expired): stopped at once")]
    private static partial void LogLost(ILogger logger, int[] partitions);

    [LoggerMessage(EventId = OutboxEventId.OwnershipPauseDetected, Level = LogLevel.Warning, Message = "Process stood still for {GapSeconds:0.0}s: treating all partitions as lost; re-activating only what the group assigns after {QuarantineSeconds:0.0}s")]
    private static partial void LogPaused(ILogger logger, double gapSeconds, double quarantineSeconds);

    [LoggerMessage(EventId = OutboxEventId.OwnershipActivationInterrupted, Level = LogLevel.Information, Message = "Activation interrupted (by a rebalance, or slower than {Seconds}s); what is still assigned is activated next round")]
    private static partial void LogActivationInterrupted(ILogger logger, double seconds);

    [LoggerMessage(EventId = OutboxEventId.OwnershipSlow, Level = LogLevel.Warning, Message = "Relays did not {What} within {Seconds}s; they finish in the background, fenced by the next owner's epoch")]
    private static partial void LogSlow(ILogger logger, string what, double seconds);

    [LoggerMessage(EventId = OutboxEventId.OwnershipConsumerError, Level = LogLevel.Warning, Message = "Kafka ownership consumer: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = OutboxEventId.OwnershipLibrdkafkaLog, Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);

    [LoggerMessage(EventId = OutboxEventId.OwnershipLoopFailed, Level = LogLevel.Critical, Message = "The ownership loop failed; all partitions dropped and the silo stops")]
    private static partial void LogOwnershipFailed(ILogger logger, Exception exception);
}
