using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Cluster;

/// <summary>Static membership (Cluster:InstanceId): a silo that restarts within the session timeout gets its own partitions back.</summary>
public sealed class StaticMembershipTests : RelayTestBase
{
    [Fact]
    public async Task ARestartedStaticMemberGetsItsPartitionsBackWithoutMovingAnyoneElses()
    {
        var topic = Kafka.CreateTopic("coordination", partitions: TestDatabase.Partitions);
        var group = "outbox-test-" + Guid.NewGuid().ToString("N")[..8];
        Dictionary<string, string> Member(string id) => new()
        {
            ["Cluster:Mode"] = "group",
            ["Cluster:GroupId"] = group,
            ["Cluster:CoordinationTopic"] = topic,
            ["Cluster:InstanceId"] = id,
            ["Cluster:SessionTimeoutMs"] = "10000",
        };
        await using var b = await TestSilo.StartAsync(Db, Kafka, "silo-b", Member("b"));
        var a = await TestSilo.StartAsync(Db, Kafka, "silo-a", Member("a"));
        await Eventually.TrueAsync(async () => await Owned("silo-a") is { Count: > 0 } owned && owned.Count + (await Owned("silo-b")).Count == TestDatabase.Partitions,
            TimeSpan.FromSeconds(60), "both static members share the partitions");
        var ownedByA = await Owned("silo-a");
        var ownedByB = await Owned("silo-b");

        await a.DisposeAsync();
        a = await TestSilo.StartAsync(Db, Kafka, "silo-a", Member("a"));
        await using (a)
        {
            await Eventually.TrueAsync(async () => (await Owned("silo-a")).Count == ownedByA.Count && await EpochsAbove(ownedByA, 1),
                TimeSpan.FromSeconds(30), "the restarted member took its own partitions back");
            Assert.Equal(ownedByA.Keys.Order(), (await Owned("silo-a")).Keys.Order());
            Assert.Equal(ownedByB, await Owned("silo-b")); // same partitions, same epochs: never revoked nor re-activated
        }
    }

    private async Task<Dictionary<int, long>> Owned(string silo)
    {
        await using var command = Db.DataSource.CreateCommand("select partition, epoch from outbox.partitions where owner = @owner");
        command.Parameters.AddWithValue("owner", silo);
        await using var reader = await command.ExecuteReaderAsync();
        var owned = new Dictionary<int, long>();
        while (await reader.ReadAsync()) owned[reader.GetInt32(0)] = reader.GetInt64(1);
        return owned;
    }

    private async Task<bool> EpochsAbove(Dictionary<int, long> before, int by)
    {
        var now = await Owned("silo-a");
        return before.All(kv => now.TryGetValue(kv.Key, out var epoch) && epoch >= kv.Value + by);
    }
}
