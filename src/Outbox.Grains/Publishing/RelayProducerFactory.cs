using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Builds the relay's one idempotent producer from <see cref="KafkaOptions"/>: the settings its guarantees rest on
/// are set here, and <see cref="KafkaOptionsValidator"/> refuses overrides that would undo them.
/// </summary>
internal static partial class RelayProducerFactory
{
    public static ProducerConfig CreateConfig(KafkaOptions options, string clientId)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId,
            // Idempotence: no duplicates from librdkafka's own retries and per-partition order across them.
            EnableIdempotence = true,
            Acks = Acks.All,
            MaxInFlight = 5,
            LingerMs = options.LingerMs,
            MessageTimeoutMs = options.MessageTimeoutMs,
            MessageMaxBytes = options.MessageMaxBytes,
            CompressionType = Enum.Parse<CompressionType>(options.Compression, ignoreCase: true),
            // The Java client's keyed partitioner, so a key lands on the same Kafka partition whoever produces it.
            Partitioner = Partitioner.Murmur2Random,
            QueueBufferingMaxMessages = 500_000,
            // Bounded in bytes too: librdkafka's default (1 GiB) would let 1 MB payloads fill a silo's memory.
            QueueBufferingMaxKbytes = options.QueueMaxKbytes,
            // The relay reads only each report's error: marshalling key, value and headers back into .NET for
            // every acknowledged message cost a good share of the silo's CPU (measured with `bench`).
            DeliveryReportFields = "status",
            SocketKeepaliveEnable = true,
            // A topic error (e.g. authorization) is cached until the next metadata refresh: refresh every 30 s
            // rather than librdkafka's 5 min, so an operator's retry after fixing access succeeds soon.
            TopicMetadataRefreshIntervalMs = 30_000,
            // Small produce requests go out at once instead of waiting for the previous one's TCP ack (Nagle).
            SocketNagleDisable = true,
        };
        foreach (var (name, value) in options.Producer) config.Set(name, value);
        return config;
    }

    /// <summary>The shared producer's owner, which builds a new producer whenever the current one reports a fatal error.</summary>
    public static RelayProducer Create(KafkaOptions options, string clientId, ILogger<IProducer<byte[], byte[]>> logger,
        ILogger<RelayProducer> ownerLogger)
    {
        var config = CreateConfig(options, clientId);
        return new RelayProducer(onFatal => new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((producer, error) =>
            {
                LogKafkaError(logger, error.Code, error.Reason, error.IsFatal);
                if (error.IsFatal) onFatal(producer);
            })
            .SetLogHandler((_, message) => LogLibrdkafka(logger, message.Facility, message.Message))
            .Build(), ownerLogger);
    }

    [LoggerMessage(EventId = OutboxEventId.ProducerError, Level = LogLevel.Warning, Message = "Kafka producer: {Code} {Reason} (fatal: {Fatal})")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason, bool fatal);

    [LoggerMessage(EventId = OutboxEventId.ProducerLibrdkafkaLog, Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);
}
