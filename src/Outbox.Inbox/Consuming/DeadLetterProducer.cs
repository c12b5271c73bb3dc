using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Produces poison events to Inbox:DeadLetterTopic: the same key, payload and headers, plus where the event came
/// from and why it failed. Idempotent and acknowledged by all replicas before the event's id is recorded, so a
/// crash in between dead-letters it again (the copy carries the same event id) rather than losing it.
/// </summary>
internal sealed class DeadLetterProducer : IDisposable
{
    public const string SourceTopicHeader = "inbox-source-topic";
    public const string SourcePartitionHeader = "inbox-source-partition";
    public const string SourceOffsetHeader = "inbox-source-offset";
    public const string ConsumerGroupHeader = "inbox-consumer-group";
    public const string ErrorHeader = "inbox-error";

    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _topic;
    private readonly string _group;

    public DeadLetterProducer(InboxOptions options)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(options.Kafka))
        {
            BootstrapServers = options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        _producer = new ProducerBuilder<byte[]?, byte[]>(config).Build();
        _topic = options.DeadLetterTopic!;
        _group = options.GroupId;
    }

    public async Task ProduceAsync(InboxEvent e, Exception error, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        foreach (var (name, value) in e.Headers) headers.Add(name, value);
        headers.Add(SourceTopicHeader, Encoding.UTF8.GetBytes(e.Topic));
        headers.Add(SourcePartitionHeader, Encoding.UTF8.GetBytes(e.Partition.ToString(CultureInfo.InvariantCulture)));
        headers.Add(SourceOffsetHeader, Encoding.UTF8.GetBytes(e.Offset.ToString(CultureInfo.InvariantCulture)));
        headers.Add(ConsumerGroupHeader, Encoding.UTF8.GetBytes(_group));
        headers.Add(ErrorHeader, Encoding.UTF8.GetBytes(InboxApplier.Describe(error)));
        var message = new Message<byte[]?, byte[]>
        {
            Key = e.Key is null ? null : Encoding.UTF8.GetBytes(e.Key),
            Value = e.Payload.ToArray(),
            Headers = headers,
        };
        await _producer.ProduceAsync(_topic, message, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
