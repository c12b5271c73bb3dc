using Microsoft.Extensions.Options;
using Npgsql;

namespace Outbox.Inbox;

/// <summary>Checks <see cref="InboxOptions"/> at start-up, naming the configuration key of every bad value.</summary>
public sealed class InboxOptionsValidator : IValidateOptions<InboxOptions>
{
    /// <summary>
    /// librdkafka properties the inbox sets itself: offsets are stored and committed only after the database
    /// commit, so automatic commits or stores would commit work that was never applied.
    /// </summary>
    private static readonly string[] OwnedKafkaProperties =
        ["enable.auto.commit", "enable.auto.offset.store", "group.id", "bootstrap.servers", "enable.partition.eof"];

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var section = InboxOptions.Section;
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add($"{section}:{nameof(options.ConnectionString)} is required (the service's database, where the inbox records events).");
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException e)
            {
                failures.Add($"{section}:{nameof(options.ConnectionString)} is not a valid Npgsql connection string: {e.Message}");
            }
        }
        if (string.IsNullOrWhiteSpace(options.BootstrapServers)) failures.Add($"{section}:{nameof(options.BootstrapServers)} is required (host:port,...).");
        if (string.IsNullOrWhiteSpace(options.GroupId)) failures.Add($"{section}:{nameof(options.GroupId)} is required (the Kafka consumer group, and the inbox's namespace).");
        if (options.Topics.Count == 0 || options.Topics.Any(string.IsNullOrWhiteSpace))
            failures.Add($"{section}:{nameof(options.Topics)} must list at least one topic, none of them empty.");
        Range(failures, nameof(options.MaxPoolSize), options.MaxPoolSize, 2, 200);
        Range(failures, nameof(options.MaxBatchSize), options.MaxBatchSize, 1, 10_000);
        Range(failures, nameof(options.MaxQueuedPerPartition), options.MaxQueuedPerPartition, 1, 1_000_000);
        Range(failures, nameof(options.MaxAttempts), options.MaxAttempts, 1, 1000);
        Range(failures, nameof(options.PurgeBatchSize), options.PurgeBatchSize, 1, 100_000);
        Between(failures, nameof(options.CommitInterval), options.CommitInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        Between(failures, nameof(options.RetryDelay), options.RetryDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Between(failures, nameof(options.MaxRetryDelay), options.MaxRetryDelay, options.RetryDelay, TimeSpan.FromMinutes(10));
        Between(failures, nameof(options.Retention), options.Retention, TimeSpan.FromSeconds(1), TimeSpan.FromDays(3650));
        Between(failures, nameof(options.PurgeInterval), options.PurgeInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1));
        Between(failures, nameof(options.ParkedCheckInterval), options.ParkedCheckInterval, TimeSpan.FromMilliseconds(50), TimeSpan.FromHours(1));
        Between(failures, nameof(options.RevokeTimeout), options.RevokeTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        if (!Enum.IsDefined(options.PoisonEvents)) failures.Add($"{section}:{nameof(options.PoisonEvents)} must be Park or DeadLetter.");
        if (!Enum.IsDefined(options.LateEvents)) failures.Add($"{section}:{nameof(options.LateEvents)} must be Park or Apply.");
        if (options.PoisonEvents == PoisonEventAction.DeadLetter && string.IsNullOrWhiteSpace(options.DeadLetterTopic))
            failures.Add($"{section}:{nameof(options.DeadLetterTopic)} is required when {section}:{nameof(options.PoisonEvents)} is DeadLetter.");
        if (options.DeadLetterTopic is { } dlt && options.Topics.Contains(dlt, StringComparer.Ordinal))
            failures.Add($"{section}:{nameof(options.DeadLetterTopic)} '{dlt}' is also consumed: a poison event would come back forever.");
        foreach (var owned in OwnedKafkaProperties.Where(options.Kafka.ContainsKey))
            failures.Add($"{section}:Kafka:{owned} is set by the inbox itself (offsets are committed only after the database commit); remove it.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Range(List<string> failures, string key, int value, int min, int max)
    {
        if (value < min || value > max) failures.Add($"{InboxOptions.Section}:{key} must be between {min} and {max}, not {value}.");
    }

    private static void Between(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max) failures.Add($"{InboxOptions.Section}:{key} must be between {min} and {max}, not {value}.");
    }
}
