using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Storage;
using Polly;
using Polly.Retry;

namespace Outbox.Grains.Relay;

/// <summary>
/// How a relay rides out a database or Kafka outage: retry forever with capped exponential backoff and
/// jitter. Rows stay in the outbox meanwhile, so waiting loses nothing and keeps the order. Being fenced off
/// and being stopped are not failures and are never retried.
/// </summary>
internal static partial class RelayRetryPipeline
{
    /// <summary>The key the silo's one pipeline is registered under (a keyed service: a host may have pipelines of its own).</summary>
    public const string Key = "outbox-relay-retry";

    public static ResiliencePipeline Create(RelayOptions options, ILogger logger) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (OperationCanceledException or PartitionFencedException)),
                OnRetry = args =>
                {
                    LogRetrying(logger, args.Outcome.Exception, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    [LoggerMessage(EventId = OutboxEventId.RelayRetrying, Level = LogLevel.Warning, Message = "Relay attempt {Attempt} failed; retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, Exception? exception, int attempt, TimeSpan delay);
}
