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

    /// <summary>
    /// Business transactions per second of the steady scenario (one event each); null: half of what the writers commit
    /// with no relay running, measured first.
    /// </summary>
    public int? Rate { get; init; }

    public int SteadySeconds { get; init; } = 30;

    /// <summary>Seconds the steady scenario's writers run alone to measure their maximum.</summary>
    public int WritersSeconds { get; init; } = 10;

    /// <summary>Seconds of the steady scenario's overload (twice the steady rate).</summary>
    public int OverloadSeconds { get; init; } = 20;

    /// <summary>Business transactions per second at which the relay's CPU is compared with the baseline poller's.</summary>
    public int CostRate { get; init; } = 300;

    /// <summary>Seconds of each of the two cost windows (relay, then poller).</summary>
    public int CostSeconds { get; init; } = 20;

    /// <summary>
    /// Load before each measured window of the steady and scale scenarios, not counted: a fresh silo or poller
    /// JIT-compiles its path and fills its pools meanwhile.
    /// </summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Quiet before the scale scenario's idle window: idle is a steady state, and for its first half minute a fresh silo
    /// still spends more CPU on compiling (tiered JIT) than on its probes (8 % of a core instead of 3 %, measured).
    /// </summary>
    public TimeSpan IdleSettle { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Outbox partitions of the scale scenario's large cluster (its small one has <see cref="Partitions"/>).</summary>
    public int ScalePartitions { get; init; } = 1024;

    /// <summary>Silo processes of each of the scale scenario's clusters.</summary>
    public int ScaleSilos { get; init; } = 3;

    /// <summary>Business transactions per second of the scale scenario's loaded window.</summary>
    public int ScaleRate { get; init; } = 500;

    /// <summary>Seconds of each of the scale scenario's windows (idle, then loaded), per cluster.</summary>
    public int ScaleSeconds { get; init; } = 15;

    /// <summary>Seconds of the write scenario (alternating plain-insert and outbox.enqueue phases).</summary>
    public int WriteSeconds { get; init; } = 20;

    /// <summary>Concurrent clients of the write scenario.</summary>
    public int WriteClients { get; init; } = 16;

    /// <summary>Business transactions per second of the churn scenario.</summary>
    public int ChurnRate { get; init; } = 500;

    /// <summary>Seconds of each variant of the churn scenario (a transaction is held open throughout).</summary>
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

    /// <summary>Small enough for CI: correctness of every scenario in about two minutes, figures meaningless.</summary>
    public BenchSettings AsQuick() => this with
    {
        Messages = 20_000, SteadySeconds = 3, WritersSeconds = 2, OverloadSeconds = 3, CostSeconds = 2, WarmUp = TimeSpan.FromSeconds(1), IdleSettle = TimeSpan.FromSeconds(1),
        ScalePartitions = 256, ScaleSilos = 2, ScaleSeconds = 2, ScaleRate = 200,
        BaselineSeconds = 5, FailoverEvents = 3_000, WriteSeconds = 3, ChurnSeconds = 4, ChurnRate = 200, InboxEvents = 5_000,
    };
}
