using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>A test with its own database, embedded Kafka and a harness of silo processes sharing them.</summary>
public abstract class ClusterTestBase(ITestOutputHelper output, IReadOnlyDictionary<string, string>? siloConfiguration = null) : RelayTestBase
{
    private SiloCluster? _silos;

    /// <summary>The silo processes of this test (started by the test itself).</summary>
    protected SiloCluster Silos => _silos ?? throw new InvalidOperationException("InitializeAsync has not run.");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _silos = new SiloCluster(Db, Kafka, output, siloConfiguration);
    }

    public override async Task DisposeAsync()
    {
        if (_silos is not null) await _silos.DisposeAsync();
        await base.DisposeAsync();
    }
}
