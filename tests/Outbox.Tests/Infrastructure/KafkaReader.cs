using System.Text;
using Confluent.Kafka;

namespace Outbox.Tests.Infrastructure;

/// <summary>Reads raw messages from a topic with an independent consumer.</summary>
public static class KafkaReader
{
    public static async Task<ConsumeResult<byte[], byte[]>> ReadOneAsync(string bootstrapServers, string topic, TimeSpan timeout) =>
        (await ReadAsync(bootstrapServers, topic, 1, timeout)).Single();

    public static Task<List<ConsumeResult<byte[], byte[]>>> ReadAsync(string bootstrapServers, string topic, int count, TimeSpan timeout) =>
        Task.Run(() =>
        {
            using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = "reader-" + Guid.NewGuid().ToString("N"),
                AutoOffsetReset = AutoOffsetReset.Earliest,
                EnableAutoCommit = false,
            }).Build();
            consumer.Subscribe(topic);
            var results = new List<ConsumeResult<byte[], byte[]>>();
            var deadline = DateTime.UtcNow + timeout;
            while (results.Count < count && DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result?.Message is not null) results.Add(result);
            }
            consumer.Close();
            if (results.Count < count) Assert.Fail($"Read {results.Count} of {count} messages from {topic} within {timeout}.");
            return results;
        });

    public static Dictionary<string, string> Headers(Message<byte[], byte[]> message) =>
        message.Headers.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()));
}
