using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Contracts;
using Outbox.Grains;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Demo;

/// <summary>
/// The main job on embedded defaults: local PostgreSQL, an embedded Kafka, real silo processes, a business
/// workload with rollbacks, and an independent consumer that checks what reached Kafka.
/// </summary>
public sealed class DemoRunner(DemoSettings settings, TextWriter progress)
{
    private const string Topic = "orders";

    public async Task<DemoResult> RunAsync(CancellationToken cancellationToken)
    {
        var connectionString = await LocalEnvironment.RecreateDatabaseAsync(settings.ConnectionString, settings.Database, cancellationToken).ConfigureAwait(false);
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = settings.Writers + 4 }.ConnectionString);
        await new OutboxMigrator(dataSource).MigrateAsync(settings.Partitions, cancellationToken).ConfigureAwait(false);

        using var kafka = new MockKafkaCluster(brokers: 3);
        kafka.CreateTopic(Topic, partitions: 12, replicationFactor: 3);
        kafka.CreateTopic("outbox-relay-coordination", partitions: settings.Partitions, replicationFactor: 3);
        progress.WriteLine($"demo: embedded Kafka at {kafka.BootstrapServers}; database {settings.Database}; {settings.Silos} silo(s), {settings.Partitions} partitions");

        var cluster = new DemoCluster(settings, connectionString, kafka.BootstrapServers, progress);
        await using (cluster.ConfigureAwait(false))
        {
            await cluster.StartAllAsync(cancellationToken).ConfigureAwait(false);
            using var verifier = new DeliveryVerifier(kafka.BootstrapServers, Topic);
            var workload = new OrderWorkload(dataSource, Topic, settings.Keys, settings.RollbackRatio);
            await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);
            var consumer = await DemoConsumer.StartAsync(dataSource, connectionString, kafka.BootstrapServers, Topic, cancellationToken).ConfigureAwait(false);
            await using var stopConsumer = consumer.ConfigureAwait(false);

            var started = Stopwatch.GetTimestamp();
            using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reporter = ReportProgressAsync(workload, verifier, dataSource, stopProgress.Token);
            var chaos = settings.Chaos ? cluster.KillAndRestartOneAsync(TimeSpan.FromSeconds(Math.Max(2, settings.Events / (double)settings.Rate / 3)), dataSource, cancellationToken) : Task.FromResult<double?>(null);
            await workload.RunAsync(settings.Events, settings.Rate, settings.Writers, cancellationToken).ConfigureAwait(false);
            var failoverSeconds = await chaos.ConfigureAwait(false);
            var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            // Give stray late deliveries (rolled-back events, if the relay were wrong) a moment to show up.
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            await stopProgress.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);

            var consumed = await consumer.FinishAsync(dataSource, workload.Committed.Count, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var latency = LatencySummary.Of(workload.Committed, verifier);
            return new DemoResult(
                Committed: workload.Committed.Count,
                Published: verifier.Distinct,
                Lost: missing,
                Duplicates: verifier.Duplicates,
                OutOfOrder: verifier.OutOfOrder,
                RolledBackPublished: workload.RolledBack.Count(verifier.HasSeen),
                RolledBack: workload.RolledBack.Count,
                Latency: latency,
                Seconds: elapsed,
                FailoverSeconds: failoverSeconds,
                Consumer: consumed);
        }
    }

    private async Task ReportProgressAsync(OrderWorkload workload, DeliveryVerifier verifier, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var client = new OutboxClient(dataSource);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var backlog = (await client.GetStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Sum(p => p.Backlog);
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"demo: committed={workload.CommittedCount} rolled_back={workload.RolledBack.Count} received={verifier.Distinct} duplicates={verifier.Duplicates} backlog={backlog}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
