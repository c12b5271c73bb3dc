using Npgsql;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>
/// A drain request reaches the partition's owner whichever silo it was sent to. The sweep and the change probe are
/// set to 30 minutes: within the test only a trigger can make a relay drain.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class DrainRoutingTests(ITestOutputHelper output) : ClusterTestBase(output,
    new Dictionary<string, string> { ["Relay:SweepInterval"] = "00:30:00", ["Wake:ProbeInterval"] = "00:30:00" })
{
    [Fact]
    public async Task ADrainRequestSentToASiloThatDoesNotOwnThePartitionGetsItDrained()
    {
        var topic = Kafka.CreateTopic();
        var silos = await Silos.StartAsync("silo-1", "silo-2", "silo-3");
        await Silos.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(120));
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        // Rows written while nothing looks for them (no probe, no sweep within the test), so nothing wakes the owner.
        const int partition = 5;
        var key = Enumerable.Range(0, 10_000).Select(i => $"key-{i}").First(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition);
        var eventIds = Enumerable.Range(1, 20).Select(_ => Guid.NewGuid()).ToArray();
        await using (var batch = Db.DataSource.CreateBatch())
        {
            for (var i = 0; i < eventIds.Length; i++)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                    insert into outbox.messages (partition, event_id, topic, key, payload, headers)
                    values ($1, $2, $3, $4, '\x00', jsonb_build_object('version', $5::text))
                    """) { Parameters = { new() { Value = partition }, new() { Value = eventIds[i] }, new() { Value = topic }, new() { Value = key }, new() { Value = i + 1 } } });
            }
            await batch.ExecuteNonQueryAsync();
        }
        Assert.Equal(eventIds.Length, await verifier.WaitForAsync(eventIds, TimeSpan.FromSeconds(3)));

        var owner = (await Silos.OwnersAsync())[partition];
        var other = silos.First(s => s.Name != owner);
        Assert.DoesNotContain(partition, await SiloCluster.ActiveAsync(other) ?? []);
        using var http = new HttpClient { BaseAddress = other.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestSilo.AdminToken);
        using var response = await http.PostAsync(new Uri($"/admin/partitions/{partition}/drain", UriKind.Relative), null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);

        Assert.Equal(0, await verifier.WaitForAsync(eventIds, TimeSpan.FromSeconds(20)));
        Assert.Equal(0, verifier.OutOfOrder);
        Silos.Write($"drain sent to {other.Name}, partition {partition} owned by {owner}: {eventIds.Length} rows published");
    }
}
