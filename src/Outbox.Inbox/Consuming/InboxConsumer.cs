using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outbox.Inbox.Diagnostics;
using Outbox.Inbox.Schema;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// One hosted consumer: a member of the Kafka consumer group whose poll loop hands each assigned partition's events
/// to that partition's <see cref="PartitionWorker"/> and commits to Kafka only the offsets the workers' database
/// transactions have committed. A revoked partition's worker finishes its batch in flight (within
/// Inbox:RevokeTimeout) and its offset is committed before the partition moves; a lost partition commits nothing.
/// Either way a copy of uncommitted work is redelivered to the next owner, and the inbox absorbs what was applied.
/// </summary>
internal sealed partial class InboxConsumer(
    InboxOptions options, HandlerScopes handlers, InboxTelemetry telemetry, ConsumerHealth health, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    private readonly ILogger _logger = loggers.CreateLogger("Outbox.Inbox.Consumer");
    private readonly ConcurrentDictionary<TopicPartition, PartitionWorker> _workers = new();
    private BatchRunner _runner = null!;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var dataSource = BuildDataSource();
        using var deadLetters = options.PoisonEvents == PoisonEventAction.DeadLetter ? new DeadLetterProducer(options) : null;
        try
        {
            if (options.MigrateOnStart)
            {
                var applied = await new InboxMigrator(dataSource).MigrateAsync(stoppingToken).ConfigureAwait(false);
                if (applied.Count > 0) LogMigrated(_logger, applied);
            }
            var applier = new InboxApplier(dataSource, handlers, options, _logger);
            _runner = new BatchRunner(applier, deadLetters, options, telemetry, health, _logger);
            using var lag = telemetry.ObserveLag(options.GroupId, Lag);
            var retention = InboxRetention.RunAsync(dataSource, options, telemetry, _logger, stoppingToken);
            // Consume() blocks: the poll loop has a thread of its own.
            await Task.Factory.StartNew(() => Poll(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .ConfigureAwait(false);
            await retention.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown during start-up.
        }
        catch (Exception e)
        {
            health.Failure = e;
            LogFailed(_logger, e, options.GroupId);
            throw;
        }
        finally
        {
            health.Running = false;
        }
    }

    private NpgsqlDataSource BuildDataSource()
    {
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = options.MaxPoolSize;
        builder.ConnectionStringBuilder.ApplicationName ??= "outbox-inbox";
        return builder.Build();
    }

    private void Poll(CancellationToken stoppingToken)
    {
        using var consumer = BuildConsumer();
        consumer.Subscribe(options.Topics);
        health.Running = true;
        LogStarted(_logger, options.GroupId, options.Topics);
        var nextCommit = DateTime.UtcNow + options.CommitInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? result;
                try
                {
                    result = consumer.Consume(PollTimeout);
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    LogKafkaError(_logger, options.GroupId, e.Error.Code, e.Error.Reason);
                    continue;
                }
                if (result?.Message is not null && _workers.TryGetValue(result.TopicPartition, out var worker))
                {
                    health.KafkaOk();
                    worker.Enqueue(result);
                    telemetry.Consumed(options.GroupId, result.Topic);
                    if (!worker.Paused && worker.Queued >= options.MaxQueuedPerPartition)
                    {
                        consumer.Pause([worker.Partition]);
                        worker.Paused = true;
                    }
                }
                ResumeDrained(consumer);
                if (DateTime.UtcNow >= nextCommit)
                {
                    Commit(consumer, _workers.Values);
                    Observe(consumer);
                    nextCommit = DateTime.UtcNow + options.CommitInterval;
                }
            }
        }
        finally
        {
            // Shutdown: the batches in flight finish (within the revoke timeout) and their offsets are committed
            // before the group is left, so the partitions' next owners start where this member stopped.
            var workers = _workers.Values.ToArray();
            _workers.Clear();
            Task.WhenAll(workers.Select(w => w.StopAsync(options.RevokeTimeout))).GetAwaiter().GetResult();
            Commit(consumer, workers);
            consumer.Close();
        }
    }

    private IConsumer<byte[], byte[]> BuildConsumer()
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(options.Kafka))
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            // Offsets are committed by the poll loop, and only those the database has committed.
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        };
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetPartitionsAssignedHandler((_, partitions) => Assigned(partitions))
            .SetPartitionsRevokedHandler((consumer, partitions) => Revoked(consumer, partitions))
            .SetPartitionsLostHandler((_, partitions) => Lost(partitions))
            .SetErrorHandler((_, error) => KafkaError(error))
            .SetLogHandler((_, message) => LogLibrdkafka(_logger, message.Facility, message.Message))
            .Build();
    }

    private void Assigned(List<TopicPartition> partitions)
    {
        health.KafkaOk();
        foreach (var partition in partitions)
            _workers.GetOrAdd(partition, p => new PartitionWorker(p, _runner, options, _logger));
        health.AssignedPartitions = _workers.Count;
        LogAssigned(_logger, options.GroupId, partitions);
    }

    private void Revoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        var stopping = partitions.Select(p => _workers.TryRemove(p.TopicPartition, out var w) ? w : null).OfType<PartitionWorker>().ToArray();
        var finished = Task.WhenAll(stopping.Select(w => w.StopAsync(options.RevokeTimeout))).GetAwaiter().GetResult();
        foreach (var (worker, done) in stopping.Zip(finished).Where(x => !x.Second))
            LogRevokeTimedOut(_logger, options.GroupId, worker.Partition.Topic, worker.Partition.Partition.Value, options.RevokeTimeout);
        Commit(consumer, stopping);
        health.AssignedPartitions = _workers.Count;
        LogRevoked(_logger, options.GroupId, stopping.Length);
    }

    private void Lost(List<TopicPartitionOffset> partitions)
    {
        var lost = partitions.Select(p => _workers.TryRemove(p.TopicPartition, out var w) ? w : null).OfType<PartitionWorker>().ToArray();
        Task.WhenAll(lost.Select(w => w.AbortAsync())).GetAwaiter().GetResult();
        health.AssignedPartitions = _workers.Count;
        LogLost(_logger, options.GroupId, lost.Length);
    }

    private void KafkaError(Error error)
    {
        if (error.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport) health.KafkaFailed($"{error.Code}: {error.Reason}");
        LogKafkaError(_logger, options.GroupId, error.Code, error.Reason);
    }

    private void ResumeDrained(IConsumer<byte[], byte[]> consumer)
    {
        foreach (var worker in _workers.Values)
        {
            if (worker.Paused && worker.Queued <= options.MaxQueuedPerPartition / 2)
            {
                consumer.Resume([worker.Partition]);
                worker.Paused = false;
            }
        }
    }

    /// <summary>Commits what the workers' transactions committed; a failure is logged and covered by the next commit.</summary>
    private void Commit(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionWorker> workers)
    {
        var due = workers.Select(w => (Worker: w, Offset: w.OffsetToCommit())).Where(x => x.Offset is not null).ToArray();
        if (due.Length == 0) return;
        try
        {
            consumer.Commit(due.Select(x => x.Offset!));
            foreach (var (worker, offset) in due) worker.CommittedToKafka(offset!.Offset.Value);
        }
        catch (KafkaException e)
        {
            LogCommitFailed(_logger, e, options.GroupId);
        }
    }

    /// <summary>High watermarks for the lag gauge, and workers that stopped on a defect, for the health check.</summary>
    private void Observe(IConsumer<byte[], byte[]> consumer)
    {
        foreach (var worker in _workers.Values)
        {
            worker.HighWatermark = consumer.GetWatermarkOffsets(worker.Partition).High.Value;
            if (worker.CommittedOffset < 0) worker.Position = consumer.Position(worker.Partition).Value;
            if (worker.Failure is { } failure) health.Failure ??= failure;
        }
    }

    private IEnumerable<(string Topic, int Partition, long Lag)> Lag() =>
        _workers.Values
            .Select(w => (w.Partition, w.HighWatermark, Next: w.CommittedOffset >= 0 ? w.CommittedOffset : w.Position))
            .Where(x => x.HighWatermark >= 0 && x.Next >= 0)
            .Select(x => (x.Partition.Topic, x.Partition.Partition.Value, Math.Max(0, x.HighWatermark - x.Next)));

    [LoggerMessage(EventId = InboxEventId.ConsumerStarted, Level = LogLevel.Information, Message = "Group {Group}: consuming {Topics}")]
    private static partial void LogStarted(ILogger logger, string group, IList<string> topics);

    [LoggerMessage(EventId = InboxEventId.PartitionsAssigned, Level = LogLevel.Information, Message = "Group {Group}: assigned {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string group, List<TopicPartition> partitions);

    [LoggerMessage(EventId = InboxEventId.PartitionsRevoked, Level = LogLevel.Information, Message = "Group {Group}: {Count} partition(s) revoked (batches in flight finished, offsets committed)")]
    private static partial void LogRevoked(ILogger logger, string group, int count);

    [LoggerMessage(EventId = InboxEventId.PartitionsLost, Level = LogLevel.Warning, Message = "Group {Group}: {Count} partition(s) lost; their uncommitted work is redelivered to the new owner")]
    private static partial void LogLost(ILogger logger, string group, int count);

    [LoggerMessage(EventId = InboxEventId.RevokeTimedOut, Level = LogLevel.Warning, Message = "Group {Group}: the batch in flight of revoked {Topic}/{Partition} did not finish within {Timeout}; cancelled, not committed")]
    private static partial void LogRevokeTimedOut(ILogger logger, string group, string topic, int partition, TimeSpan timeout);

    [LoggerMessage(EventId = InboxEventId.ConsumerFailed, Level = LogLevel.Error, Message = "Group {Group}: the consumer stopped on an unexpected error")]
    private static partial void LogFailed(ILogger logger, Exception exception, string group);

    [LoggerMessage(EventId = InboxEventId.KafkaError, Level = LogLevel.Warning, Message = "Group {Group}: Kafka reported {Code}: {Reason}")]
    private static partial void LogKafkaError(ILogger logger, string group, ErrorCode code, string reason);

    [LoggerMessage(EventId = InboxEventId.KafkaLog, Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);

    [LoggerMessage(EventId = InboxEventId.CommitFailed, Level = LogLevel.Warning, Message = "Group {Group}: committing offsets failed; the next commit covers them")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string group);

    [LoggerMessage(EventId = InboxEventId.SchemaMigrated, Level = LogLevel.Information, Message = "Inbox schema migrations applied: {Versions}")]
    private static partial void LogMigrated(ILogger logger, IReadOnlyList<int> versions);
}
