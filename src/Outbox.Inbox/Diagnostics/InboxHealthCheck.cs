using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Outbox.Inbox.Diagnostics;

/// <summary>
/// A consumer's health (registered by AddOutboxConsumer as "outbox-inbox-{handler}"): unhealthy when its consume
/// loop stopped, or when the database or every Kafka broker has been out of reach for longer than
/// <see cref="Grace"/> (events are not applied meanwhile; nothing is lost); healthy otherwise, with the partitions
/// it holds.
/// </summary>
internal sealed class InboxHealthCheck(ConsumerHealth health, TimeProvider time) : IHealthCheck
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["assigned_partitions"] = health.AssignedPartitions };
        var now = time.GetUtcNow();
        HealthCheckResult result;
        if (health.Failure is { } failure)
            result = HealthCheckResult.Unhealthy("The inbox consumer stopped on an error.", failure, data);
        else if (!health.Running)
            result = HealthCheckResult.Unhealthy("The inbox consumer is not running.", data: data);
        else if (health.DatabaseFailingSince is { } since && now - since > Grace)
            result = HealthCheckResult.Unhealthy($"The database has failed every attempt since {since:O}; events wait in Kafka.", data: data);
        else if (health.KafkaFailingSince is { } down && now - down > Grace)
            result = HealthCheckResult.Unhealthy($"Kafka is out of reach since {down:O}: {health.LastKafkaError}", data: data);
        else
            result = HealthCheckResult.Healthy($"Consuming; {health.AssignedPartitions} partition(s) assigned.", data);
        return Task.FromResult(result);
    }
}
