using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Outbox.Grains.Publishing;

namespace Outbox.Tools.Verification;

/// <summary>
/// An independent Kafka consumer that checks what really reached a topic against what the writers committed:
/// lost events, duplicates (same event id twice), per-key order (the "version" header must rise for each key
/// across distinct events) and events from rolled-back transactions.
/// </summary>
public sealed class DeliveryVerifier : IDisposable
{
    /// <summary>Header the demo writers put on each event: the aggregate's version, rising per key in commit order.</summary>
    public const string VersionHeader = "version";

    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly ConcurrentDictionary<Guid, long> _firstSeen = new();
    private readonly ConcurrentDictionary<Guid, StageTimes> _stages = new();
    private readonly Dictionary<string, long> _lastVersion = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _received;
    private long _duplicates;
    private long _outOfOrder;

    public DeliveryVerifier(string bootstrapServers, string topic)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "outbox-verifier-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
            SocketNagleDisable = true,
            IsolationLevel = IsolationLevel.ReadCommitted,
        };
        // Every partition assigned from the beginning, no group join: the verifier sees from the first message.
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build())
        {
            var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
            if (partitions.Count == 0) throw new InvalidOperationException($"Topic {topic} has no partitions; create it first.");
            _consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
            _consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        }
        _loop = Task.Factory.StartNew(Consume, TaskCreationOptions.LongRunning);
    }

    /// <summary>Messages received, duplicates included.</summary>
    public long Received => Interlocked.Read(ref _received);

    public long Distinct => _firstSeen.Count;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>When (Stopwatch timestamp) an event was first received, if it was.</summary>
    public bool TryGetFirstSeen(Guid eventId, out long timestamp) => _firstSeen.TryGetValue(eventId, out timestamp);

    public bool HasSeen(Guid eventId) => _firstSeen.ContainsKey(eventId);

    /// <summary>The relay's stage timestamps of an event's first receipt, if it carried them (Relay:StageTimestamps).</summary>
    public bool TryGetStages(Guid eventId, out StageTimes stages) => _stages.TryGetValue(eventId, out stages);

    /// <summary>Waits until every given event was received or the timeout passes; returns how many are still missing.</summary>
    public async Task<int> WaitForAsync(IReadOnlyCollection<Guid> eventIds, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var missing = eventIds.Count(id => !_firstSeen.ContainsKey(id));
            if (missing == 0 || Stopwatch.GetTimestamp() > deadline) return missing;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Consume()
    {
        while (!_stop.IsCancellationRequested)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException)
            {
                continue;
            }
            if (result?.Message is null) continue;
            var now = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _received);
            var headers = result.Message.Headers;
            if (!Guid.TryParse(Header(headers, OutboxHeaders.EventId), out var eventId)) continue;
            if (!_firstSeen.TryAdd(eventId, now))
            {
                Interlocked.Increment(ref _duplicates);
                continue;
            }
            if (headers.TryGetLastBytes(OutboxHeaders.Stages, out var stageHeader)
                && StageTimes.TryParse(stageHeader, StageTimes.NowMicros(), out var stages))
                _stages[eventId] = stages;
            if (Header(headers, VersionHeader) is { } versionText && long.TryParse(versionText, CultureInfo.InvariantCulture, out var version))
            {
                var key = Encoding.UTF8.GetString(result.Message.Key);
                if (_lastVersion.TryGetValue(key, out var last) && version <= last) Interlocked.Increment(ref _outOfOrder);
                else _lastVersion[key] = version;
            }
        }
    }

    private static string? Header(Headers headers, string name) =>
        headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
