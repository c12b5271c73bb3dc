namespace Outbox.Tools.Bench;

/// <summary>
/// What the benchmark runs: sizes, rates and durations of each scenario, and the relay settings the silo and
/// the database-ceiling drain share (so both drain with the same parallelism).
/// </summary>
public sealed record BenchSettings
{
    public required string ConnectionString { get; init; }

    /// <summary>The throw-away database the benchmark re-creates (dropped and created at the start).</summary>
    public string Database { get; init; } = "outbox_bench";

    /// <summary>Scenarios to run, by name, in this order.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = BenchScenarios.Names;

    /// <summary>Rows preloaded for the backlog scenario (and drained once more for the database ceiling).</summary>
    public int Messages { get; init; } = 1_000_000;

    public int PayloadBytes { get; init; } = 300;

    /// <summary>Distinct ordering keys of every scenario's data.</summary>
    public int Keys { get; init; } = 10_000;

    public int Partitions { get; init; } = 64;

    /// <summary>Kafka partitions of each benchmark topic.</summary>
    public int TopicPartitions { get; init; } = 12;

    /// <summary>Business transactions per second of the steady scenario (one event each).</summary>
    public int Rate { get; init; } = 2_000;

    public int SteadySeconds { get; init; } = 30;

    /// <summary>Seconds of the write scenario (alternating plain-insert and outbox.enqueue phases).</summary>
    public int WriteSeconds { get; init; } = 20;

    /// <summary>Concurrent clients of the write scenario.</summary>
    public int WriteClients { get; init; } = 8;

    /// <summary>Business transactions per second of the churn scenario.</summary>
    public int ChurnRate { get; init; } = 1_000;

    /// <summary>Seconds of the churn scenario (a transaction is held open throughout).</summary>
    public int ChurnSeconds { get; init; } = 60;

    /// <summary>Concurrent writer connections of the steady and churn scenarios.</summary>
    public int Writers { get; init; } = 16;

    /// <summary>The naive baseline is slow by design: it runs this long and its rate is compared.</summary>
    public int BaselineSeconds { get; init; } = 30;

    /// <summary>Events committed during the failover scenario (one silo of three is killed a third of the way in).</summary>
    public int FailoverEvents { get; init; } = 10_000;

    /// <summary>Business transactions per second during the failover scenario.</summary>
    public int FailoverRate { get; init; } = 500;

    /// <summary>Events the inbox scenario consumes, once with the inbox and once without.</summary>
    public int InboxEvents { get; init; } = 50_000;

    /// <summary>Relay:BatchSize of the silo and of the ceiling drain.</summary>
    public int BatchSize { get; init; } = new Grains.Relay.RelayOptions().BatchSize;

    /// <summary>Outbox:MaxPoolSize of the silo and of the ceiling drain.</summary>
    public int PoolSize { get; init; } = new Grains.Hosting.OutboxOptions().MaxPoolSize;

    /// <summary>Delivery modes the backlog and steady scenarios run in, each in turn, so the cost of exactly-once is a measured ratio.</summary>
    public IReadOnlyList<Grains.Relay.DeliveryMode> Modes { get; init; } = [Grains.Relay.DeliveryMode.AtLeastOnce, Grains.Relay.DeliveryMode.ExactlyOnce];

    /// <summary>Further silo configuration (Section:Key -> value), for experiments with the relay's settings.</summary>
    public IReadOnlyDictionary<string, string> SiloConfiguration { get; init; } = new Dictionary<string, string>();

    /// <summary>Forward the silo's log lines.</summary>
    public bool Verbose { get; init; }

    /// <summary>Small enough for CI: correctness of every scenario in well under a minute, figures meaningless.</summary>
    public BenchSettings AsQuick() => this with
    {
        Messages = 20_000, SteadySeconds = 5, BaselineSeconds = 5, FailoverEvents = 3_000, WriteSeconds = 4, ChurnSeconds = 6, ChurnRate = 300, InboxEvents = 5_000,
    };
}
