using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Owns the silo's one shared producer and replaces it after a fatal error. A fatal librdkafka producer (e.g. an
/// idempotence sequence the broker refuses) fails every later send with Local_Fatal for good; the relay treats
/// send failures as transient and retries its batch, so without a new producer every partition would retry for
/// ever. The replacement is built off librdkafka's callback thread (a producer cannot be disposed from its own
/// callback), and the failed one is flushed, so its pending reports still arrive, then disposed.
/// </summary>
internal sealed partial class RelayProducer : IDisposable
{
    private static readonly TimeSpan FlushFailed = TimeSpan.FromSeconds(10);
    private readonly Func<Action<IProducer<byte[], byte[]>>, IProducer<byte[], byte[]>> _build;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private IProducer<byte[], byte[]> _current;
    private bool _disposed;

    /// <param name="build">Builds a producer, given the callback to call with that producer when it reports a fatal error.</param>
    /// <param name="logger">Where the replacement of a failed producer is logged (<see cref="OutboxEventId.ProducerReplaced"/>).</param>
    public RelayProducer(Func<Action<IProducer<byte[], byte[]>>, IProducer<byte[], byte[]>> build, ILogger<RelayProducer> logger)
    {
        _build = build;
        _logger = logger;
        _current = build(OnFatal);
    }

    /// <summary>The producer to send with now; read it once per batch.</summary>
    public IProducer<byte[], byte[]> Current => Volatile.Read(ref _current);

    /// <summary>How many times the producer was replaced after a fatal error.</summary>
    public int Replacements { get; private set; }

    private void OnFatal(IProducer<byte[], byte[]> failed) => _ = Task.Run(() => Replace(failed));

    private void Replace(IProducer<byte[], byte[]> failed)
    {
        lock (_gate)
        {
            if (_disposed || !ReferenceEquals(failed, _current)) return; // already replaced
            Volatile.Write(ref _current, _build(OnFatal));
            Replacements++;
        }
        LogReplaced(_logger, failed.Name);
        failed.Flush(FlushFailed);
        failed.Dispose();
    }

    /// <summary>Disposes the current producer; a fatal error reported after this builds no new one.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }
        _current.Dispose();
    }

    [LoggerMessage(EventId = OutboxEventId.ProducerReplaced, Level = LogLevel.Error, Message = "Kafka producer {Producer} hit a fatal error and was replaced by a new one; batches in flight are retried on it")]
    private static partial void LogReplaced(ILogger logger, string producer);
}
