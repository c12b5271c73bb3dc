using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Cluster;

/// <summary>The coordination topic must have one Kafka partition per outbox partition, or ownership would not cover the outbox.</summary>
public sealed class CoordinationTopicTests : RelayTestBase
{
    [Fact]
    public async Task ASiloRefusesToStartWhenTheCoordinationTopicHasAnotherPartitionCount()
    {
        var topic = Kafka.CreateTopic("coordination", partitions: TestDatabase.Partitions - 1);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestSilo.StartAsync(Db, Kafka, overrides: Group(topic)));

        Assert.Contains($"has {TestDatabase.Partitions - 1} partitions but Outbox:PartitionCount is {TestDatabase.Partitions}", error.Message);
    }

    [Fact]
    public async Task ASiloInGroupModeOwnsEveryPartitionWhenAlone()
    {
        var topic = Kafka.CreateTopic("coordination", partitions: TestDatabase.Partitions);

        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: Group(topic));

        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.partitions where owner = 'test-silo'") == TestDatabase.Partitions,
            TimeSpan.FromSeconds(30), "the only member of the group is assigned every partition");
    }

    private static Dictionary<string, string> Group(string topic) => new()
    {
        ["Cluster:Mode"] = "group",
        ["Cluster:GroupId"] = "outbox-test-" + Guid.NewGuid().ToString("N")[..8],
        ["Cluster:CoordinationTopic"] = topic,
    };
}
