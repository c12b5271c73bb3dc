namespace Outbox.Inbox.Diagnostics;

/// <summary>
/// What one consumer's health check reports, kept up to date by the consumer: running or failed, partitions
/// assigned, and whether the database or Kafka has been failing for longer than a moment.
/// </summary>
internal sealed class ConsumerHealth(TimeProvider time)
{
    private long _databaseFailingSince = long.MaxValue;
    private long _kafkaFailingSince = long.MaxValue;

    public bool Running { get; set; }

    public Exception? Failure { get; set; }

    public int AssignedPartitions { get; set; }

    public string? LastKafkaError { get; private set; }

    /// <summary>Since when every database attempt failed (null while the last one succeeded).</summary>
    public DateTimeOffset? DatabaseFailingSince => Since(Interlocked.Read(ref _databaseFailingSince));

    /// <summary>Since when Kafka reported every broker down (null once a message or assignment arrived).</summary>
    public DateTimeOffset? KafkaFailingSince => Since(Interlocked.Read(ref _kafkaFailingSince));

    public void DatabaseFailed() => Interlocked.CompareExchange(ref _databaseFailingSince, time.GetUtcNow().UtcTicks, long.MaxValue);

    public void DatabaseOk() => Interlocked.Exchange(ref _databaseFailingSince, long.MaxValue);

    public void KafkaFailed(string reason)
    {
        LastKafkaError = reason;
        Interlocked.CompareExchange(ref _kafkaFailingSince, time.GetUtcNow().UtcTicks, long.MaxValue);
    }

    public void KafkaOk() => Interlocked.Exchange(ref _kafkaFailingSince, long.MaxValue);

    private static DateTimeOffset? Since(long ticks) => ticks == long.MaxValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
}
