namespace Outbox.Tools.Demo;

/// <summary>What the demo runs: workload size and rate, cluster size, chaos.</summary>
public sealed record DemoSettings(
    string ConnectionString,
    int Events,
    int Rate,
    int Writers,
    int Keys,
    int Partitions,
    int Silos,
    bool Chaos,
    double RollbackRatio,
    bool Verbose,
    string Database = "outbox_demo");
