using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Runtime;
using Outbox.Grains.Hosting;
using Outbox.Grains.Publishing;

namespace Outbox.Grains.Health;

/// <summary>
/// Readiness of the relay in this host: the database answers, a Kafka broker answers, the silo is an active member
/// of its Orleans cluster (partitions are placed on it), and the host is not shutting down. The report's data
/// names each part (<c>database</c>, <c>kafka</c>, <c>cluster</c>, <c>shuttingDown</c>). Results are cached
/// briefly, so probes cannot load the database or Kafka however often they come.
/// </summary>
internal sealed class OutboxRelayHealthCheck(
    [FromKeyedServices(OutboxDataSources.Status)] NpgsqlDataSource dataSource,
    RelayProducer producer,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    IHostApplicationLifetime lifetime) : IHealthCheck, IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTime At, Readiness Value)? _last;
    private volatile Readiness? _lastValue;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var readiness = await CheckAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object>
        {
            ["database"] = readiness.Database,
            ["kafka"] = readiness.Kafka,
            ["cluster"] = readiness.Cluster,
            ["shuttingDown"] = readiness.ShuttingDown,
        };
        return readiness.IsReady
            ? HealthCheckResult.Healthy("The relay can publish.", data)
            : new HealthCheckResult(context.Registration.FailureStatus, readiness.Describe(), data: data);
    }

    private async Task<Readiness> CheckAsync(CancellationToken cancellationToken)
    {
        // Shutdown wins at once, ahead of the cache and without touching the database or Kafka: from the first
        // moment of a drain, orchestrators and load balancers must stop counting on this silo.
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return (_lastValue ?? new Readiness(false, false, false, false)) with { Cluster = IsActiveMember(), ShuttingDown = true };
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && DateTime.UtcNow - cached.At < CacheFor) return cached.Value;
            var value = new Readiness(
                Database: await DatabaseAnswersAsync(cancellationToken).ConfigureAwait(false),
                Kafka: KafkaAnswers(),
                Cluster: IsActiveMember(),
                ShuttingDown: lifetime.ApplicationStopping.IsCancellationRequested);
            _last = (DateTime.UtcNow, value);
            _lastValue = value;
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool IsActiveMember() => membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress) == SiloStatus.Active;

    private async Task<bool> DatabaseAnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CheckTimeout);
            await using var command = dataSource.CreateCommand("select 1");
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
            using var admin = new DependentAdminClientBuilder(producer.Current.Handle).Build();
            var metadata = admin.GetMetadata(CheckTimeout);
            return metadata.Brokers.Count > 0;
        }
        catch (KafkaException)
        {
            return false;
        }
    }

    public void Dispose() => _gate.Dispose();

    private sealed record Readiness(bool Database, bool Kafka, bool Cluster, bool ShuttingDown)
    {
        public bool IsReady => Database && Kafka && Cluster && !ShuttingDown;

        public string Describe() =>
            ShuttingDown ? "The host is shutting down."
            : string.Join(" ", new[]
            {
                Database ? null : "The outbox database does not answer.",
                Kafka ? null : "No Kafka broker answers.",
                Cluster ? null : "The silo is not an active member of its cluster.",
            }.Where(s => s is not null));
    }
}
