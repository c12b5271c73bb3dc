namespace Outbox.Contracts;

/// <summary>
/// One event to publish. Written into the outbox inside the application's own transaction and published to
/// <see cref="Topic"/> with <see cref="Key"/> as the Kafka message key, so events of one key stay in order.
/// </summary>
/// <param name="Topic">Kafka topic (Kafka's naming rules: 1-249 of a-z A-Z 0-9 . _ -).</param>
/// <param name="Key">Ordering key: the aggregate or tenant id. Events of one key are published in commit order.</param>
/// <param name="Payload">The message value, as bytes. <see cref="Json"/> builds one from JSON text.</param>
public sealed record OutboxMessage(string Topic, string Key, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Stable id carried in the <c>outbox-event-id</c> header; consumers drop duplicates by it.</summary>
    public Guid EventId { get; init; } = Guid.CreateVersion7();

    /// <summary>Optional event type, published in the <c>outbox-event-type</c> header.</summary>
    public string? EventType { get; init; }

    /// <summary>Extra Kafka headers (string values, UTF-8 on the wire).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Publish no earlier than this time; later events of the same key wait behind it.</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>A message whose payload is UTF-8 JSON text.</summary>
    public static OutboxMessage Json(string topic, string key, string json) =>
        new(topic, key, System.Text.Encoding.UTF8.GetBytes(json)) { Headers = JsonContentType };

    private static readonly IReadOnlyDictionary<string, string> JsonContentType =
        new Dictionary<string, string> { ["content-type"] = "application/json" };
}
