using Confluent.Kafka;
using Npgsql;
using Outbox.Grains.Publishing;

namespace Outbox.Silo.Hosting;

/// <summary>
/// Ready = the database answers, a Kafka broker answers, the silo has joined its cluster and activated its
/// partitions, and it is not shutting down. Results are cached briefly so probes cannot load the database.
/// </summary>
public sealed class ReadinessProbe : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly RelayProducer _producer;
    private readonly IOwnershipEngine _ownership;
    private readonly IHostApplicationLifetime _lifetime;

    public ReadinessProbe(StatusDatabase database, RelayProducer producer, IOwnershipEngine ownership,
    IHostApplicationLifetime lifetime)
    {
        _dataSource = database.DataSource;
        _producer = producer;
        _ownership = ownership;
        _lifetime = lifetime;
    }

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTime At, Readiness Value)? _last;
    private volatile Readiness? _lastValue;

    public async Task<Readiness> CheckAsync(CancellationToken cancellationToken)
    {
        // Shutdown wins at once, ahead of the cache and without touching the database or Kafka: from the first
        // moment of a drain, orchestrators and load balancers must stop counting on this silo.
        if (_lifetime.ApplicationStopping.IsCancellationRequested)
            return (_lastValue ?? new Readiness(false, false, false, false)) with { Ownership = _ownership.IsSettled, ShuttingDown = true };
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && DateTime.UtcNow - cached.At < CacheFor) return cached.Value;
            var value = new Readiness(
                Database: await DatabaseAnswersAsync(cancellationToken).ConfigureAwait(false),
                Kafka: KafkaAnswers(),
                Ownership: _ownership.IsSettled,
                ShuttingDown: _lifetime.ApplicationStopping.IsCancellationRequested);
            _last = (DateTime.UtcNow, value);
            _lastValue = value;
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> DatabaseAnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CheckTimeout);
            await using var command = _dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }

    private bool KafkaAnswers()
    {
        try
        {
            using var admin = new DependentAdminClientBuilder(_producer.Current.Handle).Build();
            var metadata = admin.GetMetadata(CheckTimeout);
            return metadata.Brokers.Count > 0;
        }
        catch (KafkaException)
        {
            return false;
        }
    }

    public void Dispose() => _gate.Dispose();
}

public sealed record Readiness(bool Database, bool Kafka, bool Ownership, bool ShuttingDown)
{
    public bool IsReady => Database && Kafka && Ownership && !ShuttingDown;
}
