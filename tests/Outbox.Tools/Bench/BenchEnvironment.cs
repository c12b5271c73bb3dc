using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Relay;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the scenarios share: a fresh database with the outbox schema, an embedded Kafka (mock cluster, 3
/// brokers, in this process), and the silo child processes of that database (one, or several).
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly MockKafkaCluster _kafka;
    private BenchSilos? _silos;

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

    /// <summary>The running silo (the first, when several run), if any.</summary>
    public SiloProcess? Silo => _silos is { Processes.Count: > 0 } silos ? silos.Processes[0] : null;

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

    /// <summary>Stops the silos that run (if any), starts one and waits until it is ready.</summary>
    /// <param name="stageTimestamps">Whether it adds the <c>outbox-stages</c> header (for latency scenarios; it costs a little per message).</param>
    public async Task<SiloProcess> StartSiloAsync(CancellationToken cancellationToken, bool stageTimestamps = false) =>
        (await StartSilosAsync(1, stageTimestamps, cancellationToken).ConfigureAwait(false)).Processes[0];

    /// <summary>Stops the silos that run (if any), starts <paramref name="count"/> and waits until each is ready.</summary>
    public async Task<BenchSilos> StartSilosAsync(int count, bool stageTimestamps, CancellationToken cancellationToken)
    {
        await StopSiloAsync().ConfigureAwait(false);
        _silos = await BenchSilos.StartAsync(Settings, ConnectionString, Settings.Partitions, count, Mode, stageTimestamps, BootstrapServers, Progress,
            cancellationToken).ConfigureAwait(false);
        return _silos;
    }

    /// <summary>The running silo, started if none runs (or if the one that runs differs in <paramref name="stageTimestamps"/>).</summary>
    public async Task<SiloProcess> EnsureSiloAsync(CancellationToken cancellationToken, bool stageTimestamps = true) =>
        _silos is { AnyExited: false, Processes.Count: 1 } running && running.StageTimestamps == stageTimestamps
            ? running.Processes[0]
            : await StartSiloAsync(cancellationToken, stageTimestamps).ConfigureAwait(false);

    /// <summary>CPU of the running silos and of their database backends (the relay's two pools).</summary>
    internal CpuMeter RelayCpu() => new(DataSource, CpuMeter.RelayApplications, () => _silos?.ProcessIds ?? []);

    public async Task StopSiloAsync()
    {
        if (_silos is null) return;
        await _silos.DisposeAsync().ConfigureAwait(false);
        _silos = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopSiloAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
        _kafka.Dispose();
    }
}
