using Microsoft.Extensions.Logging;
using Outbox.Inbox.Diagnostics;
using Outbox.Inbox.Storage;
using Polly;
using Polly.Retry;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Runs a batch until all of it is committed: a database outage is waited out (retried forever, the batch whole),
/// and a handler failure is narrowed to its event. The events before it commit as a batch, the failing one is
/// retried alone with backoff up to Inbox:MaxAttempts and then parked or dead-lettered, and the rest go on.
/// </summary>
internal sealed partial class BatchRunner
{
    private readonly InboxApplier _applier;
    private readonly DeadLetterProducer? _deadLetters;
    private readonly InboxOptions _options;
    private readonly InboxTelemetry _telemetry;
    private readonly ConsumerHealth _health;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _infrastructure;
    private readonly ResiliencePipeline<BatchOutcome> _poison;

    public BatchRunner(InboxApplier applier, DeadLetterProducer? deadLetters, InboxOptions options, InboxTelemetry telemetry, ConsumerHealth health,
        ILogger logger)
    {
        _applier = applier;
        _deadLetters = deadLetters;
        _options = options;
        _telemetry = telemetry;
        _health = health;
        _logger = logger;
        _infrastructure = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            MaxDelay = options.MaxRetryDelay,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            OnRetry = args =>
            {
                _health.DatabaseFailed();
                LogRetrying(_logger, args.Outcome.Exception, _options.GroupId, args.AttemptNumber + 1, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
        var poison = new ResiliencePipelineBuilder<BatchOutcome>();
        // One attempt only (Inbox:MaxAttempts=1) is a pipeline without retries: Polly refuses zero retry attempts.
        if (options.MaxAttempts > 1) poison.AddRetry(new RetryStrategyOptions<BatchOutcome>
        {
            MaxRetryAttempts = options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            MaxDelay = options.MaxRetryDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result.Failure is not null),
            OnRetry = args =>
            {
                var e = args.Outcome.Result.Failure!;
                LogHandlerFailed(_logger, e, _options.GroupId, args.AttemptNumber + 1, _options.MaxAttempts, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        });
        _poison = poison.Build();
    }

    /// <summary>Commits every event of <paramref name="batch"/> (applied, skipped, parked or dead-lettered), or throws when cancelled.</summary>
    public async Task RunAsync(ArraySegment<InboxEvent> batch, CancellationToken cancellationToken)
    {
        var rest = batch;
        while (rest.Count > 0)
        {
            var outcome = await ApplyAsync(rest, cancellationToken).ConfigureAwait(false);
            if (outcome.Failure is null)
            {
                _telemetry.Committed(_options.GroupId, rest[0].Topic, outcome.Counts, outcome.Elapsed);
                return;
            }
            var failed = outcome.FailedIndex;
            // The events before the failing one passed their handlers: they commit without it.
            if (failed > 0) await RunAsync(rest[..failed], cancellationToken).ConfigureAwait(false);
            await RunAloneAsync(rest[failed], cancellationToken).ConfigureAwait(false);
            rest = rest[(failed + 1)..];
        }
    }

    /// <summary>Applies one committed-or-nothing attempt, waiting out infrastructure failures.</summary>
    private async Task<BatchOutcome> ApplyAsync(IReadOnlyList<InboxEvent> batch, CancellationToken cancellationToken)
    {
        var outcome = await _infrastructure.ExecuteAsync(
            static async (state, token) => await state.Applier.ApplyAsync(state.Batch, token).ConfigureAwait(false),
            (Applier: _applier, Batch: batch), cancellationToken).ConfigureAwait(false);
        _health.DatabaseOk();
        return outcome;
    }

    /// <summary>The failing event alone: retried with backoff; if it keeps failing, a poison event.</summary>
    private async Task RunAloneAsync(InboxEvent e, CancellationToken cancellationToken)
    {
        var outcome = await _poison.ExecuteAsync(
            static async (state, token) => await state.Runner.ApplyAsync([state.Event], token).ConfigureAwait(false),
            (Runner: this, Event: e), cancellationToken).ConfigureAwait(false);
        if (outcome.Failure is not { } failure)
        {
            _telemetry.Committed(_options.GroupId, e.Topic, outcome.Counts, outcome.Elapsed);
            return;
        }
        var counts = new BatchCounts();
        if (_deadLetters is not null)
        {
            await _infrastructure.ExecuteAsync(static async (state, token) =>
            {
                await state.DeadLetters.ProduceAsync(state.Event, state.Failure, token).ConfigureAwait(false);
                await state.Applier.RecordAsync(state.Event, token).ConfigureAwait(false);
            }, (DeadLetters: _deadLetters, Applier: _applier, Event: e, Failure: failure), cancellationToken).ConfigureAwait(false);
            LogDeadLettered(_logger, failure, _options.GroupId, e.Topic, e.Partition, e.Offset, e.EventId, e.Key, _options.DeadLetterTopic);
            counts.DeadLettered = 1;
        }
        else
        {
            var parked = await _infrastructure.ExecuteAsync(
                static async (state, token) => await state.Applier.ParkFailedAsync(state.Event, state.Attempts, state.Failure, token).ConfigureAwait(false),
                (Applier: _applier, Event: e, Attempts: _options.MaxAttempts, Failure: failure), cancellationToken).ConfigureAwait(false);
            if (parked) counts.ParkedFailed = 1;
            else counts.Duplicates = 1;
        }
        _telemetry.Committed(_options.GroupId, e.Topic, counts, TimeSpan.Zero);
    }

    /// <summary>
    /// Applies the parked events an operator released, or that waited behind a resolved one, in Kafka order. One
    /// that fails again stays parked as failed, and the later ones of its key keep waiting.
    /// </summary>
    public async Task ReleaseParkedAsync(Confluent.Kafka.TopicPartition partition, CancellationToken cancellationToken)
    {
        var released = await _infrastructure.ExecuteAsync(static async (state, token) => await InboxStore.ReleasableAsync(
                state.DataSource, state.Group, state.Partition.Topic, state.Partition.Partition.Value, state.Limit, token).ConfigureAwait(false),
            (_applier.DataSource, Group: _options.GroupId, Partition: partition, Limit: _options.MaxBatchSize), cancellationToken).ConfigureAwait(false);
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parked in released)
        {
            if (parked.Event.Key is { } key && blocked.Contains(key) && parked.Reason != InboxApplier.Late) continue;
            var failure = await _poison.ExecuteAsync(static async (state, token) =>
            {
                var error = await state.Runner._infrastructure.ExecuteAsync(
                    static async (s, t) => await s.Runner._applier.ApplyParkedAsync(s.Parked, t).ConfigureAwait(false), state, token).ConfigureAwait(false);
                return new BatchOutcome(default, TimeSpan.Zero, error is null ? -1 : 0, error);
            }, (Runner: this, Parked: parked), cancellationToken).ConfigureAwait(false);
            var counts = new BatchCounts();
            if (failure.Failure is { } error)
            {
                await _infrastructure.ExecuteAsync(static async (state, token) => await InboxStore.ParkAgainAsync(
                        state.DataSource, state.Parked.Id, state.Attempts, InboxApplier.Describe(state.Error), token).ConfigureAwait(false),
                    (DataSource: _applier.DataSource, Parked: parked, Attempts: _options.MaxAttempts, Error: error), cancellationToken).ConfigureAwait(false);
                if (parked.Event.Key is { } failedKey) blocked.Add(failedKey);
                counts.ParkedFailed = 1;
            }
            else
            {
                counts.Applied = 1;
            }
            _telemetry.Committed(_options.GroupId, parked.Event.Topic, counts, TimeSpan.Zero);
        }
    }

    [LoggerMessage(EventId = InboxEventId.Retrying, Level = LogLevel.Warning, Message = "Group {Group}: attempt {Attempt} of a batch failed (database or infrastructure); retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, Exception? exception, string group, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = InboxEventId.HandlerFailed, Level = LogLevel.Warning, Message = "Group {Group}: the handler failed (attempt {Attempt} of {MaxAttempts}); retrying in {Delay}")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string group, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = InboxEventId.EventDeadLettered, Level = LogLevel.Warning,
        Message = "Group {Group}: poison event {EventId} ({Topic}/{Partition}@{Offset}, key {Key}) produced to dead-letter topic {DeadLetterTopic}")]
    private static partial void LogDeadLettered(ILogger logger, Exception exception, string group, string topic, int partition, long offset, Guid eventId,
        string? key, string? deadLetterTopic);
}
