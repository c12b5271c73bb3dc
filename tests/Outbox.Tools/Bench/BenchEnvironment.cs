using System.Globalization;
using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Relay;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the scenarios share: a fresh database with the outbox schema, an embedded Kafka (mock cluster, 3
/// brokers, in this process), and at most one silo child process at a time.
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly MockKafkaCluster _kafka;
    private SiloProcess? _silo;

    private BenchEnvironment(BenchSettings settings, string connectionString, NpgsqlDataSource dataSource, MockKafkaCluster kafka, TextWriter progress)
    {
        Settings = settings;
        ConnectionString = connectionString;
        DataSource = dataSource;
        _kafka = kafka;
        Progress = progress;
    }

    public BenchSettings Settings { get; }

    /// <summary>The benchmark's database.</summary>
    public string ConnectionString { get; }

    /// <summary>The benchmark's own pool (writers, preloading, polling), separate from any relay's pool.</summary>
    public NpgsqlDataSource DataSource { get; }

    public string BootstrapServers => _kafka.BootstrapServers;

    public TextWriter Progress { get; }

    /// <summary>The delivery mode silos are started in (<c>Relay:Delivery</c>).</summary>
    public DeliveryMode Mode { get; private set; } = DeliveryMode.AtLeastOnce;

    /// <summary>The <c>mode=</c> value of the scenario lines.</summary>
    public static string ModeName(DeliveryMode mode) => mode == DeliveryMode.ExactlyOnce ? "exactly-once" : "at-least-once";

    /// <summary>A topic name of its own per mode, so one mode's messages never count for the other.</summary>
    public string TopicFor(string topic) => Mode == DeliveryMode.ExactlyOnce ? topic + "-eos" : topic;

    /// <summary>Silos start in <paramref name="mode"/> from now on; a silo running in another mode is stopped.</summary>
    public async Task UseModeAsync(DeliveryMode mode)
    {
        if (mode != Mode) await StopSiloAsync().ConfigureAwait(false);
        Mode = mode;
    }

    /// <summary>The running silo, if any.</summary>
    public SiloProcess? Silo => _silo;

    public static async Task<BenchEnvironment> CreateAsync(BenchSettings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var connectionString = await LocalEnvironment.RecreateDatabaseAsync(settings.ConnectionString, settings.Database, cancellationToken).ConfigureAwait(false);
        var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = settings.Writers + 4,
            ApplicationName = "outbox-bench",
        }.ConnectionString);
        await new OutboxMigrator(dataSource).MigrateAsync(settings.Partitions, cancellationToken).ConfigureAwait(false);
        var kafka = new MockKafkaCluster(brokers: 3);
        // The mock cluster cannot create topics through the admin API: the exactly-once progress topic is made here.
        kafka.CreateTopic(new ExactlyOnceOptions().ProgressTopic, settings.Partitions, replicationFactor: 3);
        return new BenchEnvironment(settings, connectionString, dataSource, kafka, progress);
    }

    /// <summary>Creates a topic (replicated on the 3 brokers) on the embedded Kafka.</summary>
    public void CreateTopic(string topic) => _kafka.CreateTopic(topic, Settings.TopicPartitions, replicationFactor: 3);

    /// <summary>Stops the silo that runs (if one does), starts a new one and waits until it is ready.</summary>
    public async Task<SiloProcess> StartSiloAsync(CancellationToken cancellationToken)
    {
        await StopSiloAsync().ConfigureAwait(false);
        var port = LocalEnvironment.FreePort();
        var configuration = new Dictionary<string, string>
        {
            ["Outbox:ConnectionString"] = ConnectionString,
            ["Outbox:PartitionCount"] = Settings.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Outbox:MaxPoolSize"] = Settings.PoolSize.ToString(CultureInfo.InvariantCulture),
            ["Relay:BatchSize"] = Settings.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["Relay:Delivery"] = Mode.ToString(),
            ["Kafka:BootstrapServers"] = BootstrapServers,
            ["Cluster:SiloName"] = "bench-silo",
            ["Cluster:SiloPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in Settings.SiloConfiguration) configuration[key] = value;
        _silo = SiloProcess.Start("bench-silo", configuration, Settings.Verbose ? Progress.WriteLine : null);
        await LocalEnvironment.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
        return _silo;
    }

    /// <summary>The running silo, started if none runs.</summary>
    public async Task<SiloProcess> EnsureSiloAsync(CancellationToken cancellationToken) =>
        _silo is { HasExited: false } running ? running : await StartSiloAsync(cancellationToken).ConfigureAwait(false);

    public async Task StopSiloAsync()
    {
        if (_silo is null) return;
        await _silo.DisposeAsync().ConfigureAwait(false);
        _silo = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopSiloAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
        _kafka.Dispose();
    }
}
