using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Outbox.Grains;
using Outbox.Silo.Commands;
using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>
/// With Cluster:Tls on, the silo and gateway ports serve only peers whose certificate the cluster trusts: a cluster
/// client (the CLI's, through ClusterConnection) without TLS, or with a certificate of another CA, gets no grain call
/// through, one with a certificate of the cluster's CA does; silos with the cluster's certificate form one cluster over
/// TLS, and a silo with another CA's certificate cannot join it. Silos are processes (a silo refused by its cluster is
/// declared dead and stops its process); certificates are made by the test.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class ClusterTlsTests : ClusterTestBase
{
    /// <summary>A refused client keeps retrying the gateway; it is given this long to get a call through.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    private readonly TestCertificates _certificates;

    public ClusterTlsTests(ITestOutputHelper output)
        : this(output, new TestCertificates())
    {
    }

    private ClusterTlsTests(ITestOutputHelper output, TestCertificates certificates)
        : base(output, ClusterSettings(certificates)) => _certificates = certificates;

    [Fact]
    public async Task OnlyAClusterClientWithACertificateOfTheClustersCaGetsAGrainCallThrough()
    {
        await Silos.StartAsync("silo-1");
        var operatorClient = _certificates.Issue("cluster-ca", "operator", serverToo: false);
        _certificates.Authority("rogue-ca");
        var rogueClient = _certificates.Issue("rogue-ca", "rogue", serverToo: false);

        // The served client first: the refused ones are given the same time, and then some, to get through.
        var trusted = await CallPartitionAsync(_certificates.Settings(operatorClient, "cluster-ca"));
        Assert.True(trusted is null, $"a client with a certificate of the cluster's CA was refused: {trusted}");
        var plain = await CallPartitionAsync(new Dictionary<string, string>());
        Assert.True(plain is not null, "a client without TLS was served");
        var rogue = await CallPartitionAsync(_certificates.Settings(rogueClient, "cluster-ca"));
        Assert.True(rogue is not null, "a client whose certificate another CA issued was served");
        Assert.True(Silos["silo-1"].Logged("Cluster TLS refused a peer's certificate CN=rogue"), "the silo logged whom it refused");
    }

    [Fact]
    public async Task SilosWithTheClusterCertificateFormOneClusterAndASiloWithAnotherCasCannotJoin()
    {
        // Each silo is an active member before the next starts: silo-2 joined silo-1 over TLS.
        var silos = await Silos.StartAsync("silo-1", "silo-2");

        _certificates.Authority("rogue-ca");
        var rogue = _certificates.Settings(_certificates.Issue("rogue-ca", "rogue-silo"), "rogue-ca");
        // A joining silo must reach every active one; it gives up after 10 s instead of Orleans' 5 minutes.
        rogue["Cluster:Membership:MaxJoinAttemptTime"] = "00:00:10";
        var intruder = await Silos.LaunchAsync("intruder", rogue);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
            await intruder.Process.WaitForExitAsync(exit.Token);
        Assert.NotEqual(0, intruder.Process.ExitCode);
        Assert.False(intruder.Logged("Now listening on"), "the intruder silo started");
        Assert.True(Silos["silo-1"].Logged("Cluster TLS refused a peer's certificate CN=rogue-silo")
                    || Silos["silo-2"].Logged("Cluster TLS refused a peer's certificate CN=rogue-silo"), "no silo logged the refusal");
        // The cluster carries on: the two silos share every partition.
        await Silos.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(60));
    }

    /// <summary>Connects as the CLI does and asks partition 0 to stay active: null when served, else what failed.</summary>
    private async Task<Exception?> CallPartitionAsync(Dictionary<string, string> tls)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(tls!).Build();
        using var deadline = new CancellationTokenSource(CallTimeout);
        try
        {
            using var client = await ClusterConnection.ConnectAsync(Db.ConnectionString, Silos.ClusterId, configuration, deadline.Token);
            await client.Services.GetRequiredService<IClusterClient>().GetGrain<IOutboxPartitionGrain>(0).KeepActiveAsync().WaitAsync(deadline.Token);
            await client.StopAsync(CancellationToken.None);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static Dictionary<string, string> ClusterSettings(TestCertificates certificates)
    {
        certificates.Authority("cluster-ca");
        return certificates.Settings(certificates.Issue("cluster-ca", "outbox-relay"), "cluster-ca");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _certificates.Dispose();
    }
}
