namespace Outbox.Tests.Cluster;

/// <summary>
/// Cluster tests run several silo processes each and measure failover times: they run one at a time and
/// alone, so they neither starve each other nor the rest of the suite of the CPU their timings depend on.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTests
{
    public const string Name = "Cluster";
}
