using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Health;

/// <summary>
/// Readiness of the relay in this host: the database answers the relay (its reader's statements, which run every few
/// milliseconds, succeeded lately), a Kafka broker answers, the silo is an active member of its Orleans cluster
/// (partitions are placed on it), and the host is not shutting down. The report's data names each part
/// (<c>database</c>, <c>kafka</c>, <c>cluster</c>, <c>shuttingDown</c>). Results are cached briefly, so probes cannot
/// load Kafka however often they come, and the database answer costs no query at all: probes cannot wait behind other
/// users of a pool either (a flood of /status requests, say).
/// </summary>
internal sealed class OutboxRelayHealthCheck(
    RelayReader reader,
    RelayProducer producer,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    IHostApplicationLifetime lifetime) : IHealthCheck, IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The reader retries every second while the database is away; a few seconds without an answer is an outage.</summary>
    private static readonly TimeSpan ReaderSilence = TimeSpan.FromSeconds(5);
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
                Database: reader.AnsweredWithin(ReaderSilence),
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
