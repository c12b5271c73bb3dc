using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Publishing;

/// <summary>The Kafka cluster the relay publishes to. Section "Kafka".</summary>
public sealed class KafkaOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Kafka";

    /// <summary>
    /// host:port[,host:port...]. The relay always talks to a Kafka it is given; for development, `outbox.sh dev-kafka`
    /// hosts an embedded mock cluster in a process of its own and prints its bootstrap servers.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression(@"^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$", ErrorMessage = "Kafka:BootstrapServers must be host:port[,host:port...].")]
    public string BootstrapServers { get; set; } = "";

    /// <summary>librdkafka linger.ms: how long the producer waits to fill a batch. Small keeps latency low.</summary>
    [Range(0, 1000)]
    public int LingerMs { get; set; } = 2;

    /// <summary>
    /// librdkafka message.timeout.ms: how long librdkafka retries a message before reporting it failed. The
    /// relay then retries the batch from its first unacknowledged row, so a failure here costs time, not data.
    /// 0 waits forever (a batch can then hang on a wedged producer); the default lets a batch fail and retry.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MessageTimeoutMs { get; set; } = 60_000;

    /// <summary>Largest message (bytes) Kafka accepts; larger ones are parked as poison. Match the brokers' message.max.bytes.</summary>
    [Range(1000, 1_000_000_000)]
    public int MessageMaxBytes { get; set; } = 1_048_576;

    /// <summary>
    /// librdkafka queue.buffering.max.kbytes: how many KiB of messages the producer may hold (copied payloads
    /// waiting for or in flight to Kafka). librdkafka's default is 1 GiB, on top of the relay's own batches; this
    /// bounds it, and a full queue makes the relay wait (in order). At least 4 x MessageMaxBytes.
    /// </summary>
    [Range(1024, 2_097_151)]
    public int QueueMaxKbytes { get; set; } = 16 * 1024;

    /// <summary>none, gzip, snappy, lz4 or zstd.</summary>
    [RegularExpression("^(none|gzip|snappy|lz4|zstd)$")]
    public string Compression { get; set; } = "lz4";

    /// <summary>
    /// Off (default): the relay's own outbox-* headers. Binary: also the CloudEvents Kafka protocol binding's
    /// binary-mode headers (ce_specversion, ce_id, ce_source, ce_type, ce_time; the row's content-type header is the
    /// datacontenttype), so non-.NET consumers and CloudEvents tooling read the events natively.
    /// </summary>
    [EnumDataType(typeof(CloudEventsMode))]
    public CloudEventsMode CloudEvents { get; set; } = CloudEventsMode.Off;

    /// <summary>ce_source of every event in CloudEvents mode: a URI-reference naming the producing service (e.g. /orders).</summary>
    public string CloudEventsSource { get; set; } = "/outbox";

    /// <summary>Further librdkafka producer properties, passed through as they are (e.g. security.protocol).</summary>
    public Dictionary<string, string> Producer { get; set; } = [];
}

/// <summary>Whether the relay also writes the CloudEvents Kafka binary-mode headers (<see cref="KafkaOptions.CloudEvents"/>).</summary>
public enum CloudEventsMode
{
    /// <summary>Only the relay's outbox-* headers.</summary>
    Off,

    /// <summary>Also ce_specversion, ce_id, ce_source, ce_type, ce_time (CloudEvents Kafka binding, binary content mode).</summary>
    Binary,
}

/// <summary>
/// The headers the relay writes besides its own: the CloudEvents source when CloudEvents mode is on, and the stage
/// timestamps when <see cref="Relay.RelayOptions.StageTimestamps"/> is.
/// </summary>
internal sealed record HeaderMode(string? CloudEventsSource, bool StageTimestamps = false)
{
    public static HeaderMode From(KafkaOptions options, Relay.RelayOptions relay) =>
        new(options.CloudEvents == CloudEventsMode.Binary ? options.CloudEventsSource : null, relay.StageTimestamps);
}
