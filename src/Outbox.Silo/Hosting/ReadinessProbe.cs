using Confluent.Kafka;
using Npgsql;
using Orleans.Runtime;
using Outbox.Grains.Publishing;

namespace Outbox.Silo.Hosting;

/// <summary>
/// Ready = the database answers, a Kafka broker answers, the silo is an active member of its Orleans cluster
/// (partitions are placed on it), and it is not shutting down. Results are cached briefly so probes cannot load the database.
/// </summary>
public sealed class ReadinessProbe : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly RelayProducer _producer;
    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _silo;
    private readonly IHostApplicationLifetime _lifetime;

    public ReadinessProbe(StatusDatabase database, RelayProducer producer, IClusterMembershipService membership,
        ILocalSiloDetails silo, IHostApplicationLifetime lifetime)
    {
        _dataSource = database.DataSource;
        _producer = producer;
        _membership = membership;
        _silo = silo;
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
            return (_lastValue ?? new Readiness(false, false, false, false)) with { Cluster = IsActiveMember(), ShuttingDown = true };
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && DateTime.UtcNow - cached.At < CacheFor) return cached.Value;
            var value = new Readiness(
                Database: await DatabaseAnswersAsync(cancellationToken).ConfigureAwait(false),
                Kafka: KafkaAnswers(),
                Cluster: IsActiveMember(),
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

    private bool IsActiveMember() => _membership.CurrentSnapshot.GetSiloStatus(_silo.SiloAddress) == SiloStatus.Active;

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

public sealed record Readiness(bool Database, bool Kafka, bool Cluster, bool ShuttingDown)
{
    public bool IsReady => Database && Kafka && Cluster && !ShuttingDown;
}
