using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Grains;

/// <summary>
/// The wake path without NOTIFY: the silo's change probe finds committed rows on its own, rows of transactions that
/// commit out of id order included. The sweep is set to 30 minutes, so within a test only the probe can wake a relay.
/// </summary>
public sealed class ChangeProbeTests : RelayTestBase
{
    private static readonly Dictionary<string, string> ProbeOnly = new() { ["Relay:SweepInterval"] = "00:30:00" };

    [Fact]
    public async Task ACommittedRowIsPublishedWithoutAnyNotifyOrSweep()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: ProbeOnly);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        var ids = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "order-1", 1));

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task ARowOfATransactionThatCommitsAfterAHigherIdOfItsPartitionWasPublishedStillWakesTheRelay()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: ProbeOnly);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var keys = Enumerable.Range(0, 10_000).Select(i => $"key-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == 3).Take(2).ToArray();

        // The late transaction draws the lower id; the early one (same partition, higher id) commits and is published first.
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        var lateMessage = Enqueue.Event(topic, keys[0], 1);
        await late.EnqueueAsync(lateMessage);
        var early = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, keys[1], 1));
        Assert.Equal(0, await verifier.WaitForAsync(early, TimeSpan.FromSeconds(30)));

        await late.CommitAsync();
        Assert.Equal(0, await verifier.WaitForAsync([lateMessage.EventId], TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task OneProbeReportsANewRowAndTheNextReportsARowOfItsPartitionThatCommittedOutOfIdOrder()
    {
        var store = new Outbox.Grains.Storage.OutboxStore(Db.DataSource, auditPublished: false);
        var woken = new WakeRecorder();
        var probe = new Outbox.Grains.Wake.ChangeProbe(Db.DataSource, store, woken,
            Microsoft.Extensions.Options.Options.Create(new Outbox.Grains.Wake.WakeOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Outbox.Grains.Wake.ChangeProbe>.Instance);
        var partitions = Enumerable.Range(0, TestDatabase.Partitions).ToArray();
        await probe.ProbeAsync(partitions, CancellationToken.None);
        woken.Clear();
        var keys = Enumerable.Range(0, 10_000).Select(i => $"key-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == 3).Take(2).ToArray();

        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        await late.EnqueueAsync(Enqueue.Event("t", keys[0], 1));
        var lateId = await Db.ScalarAsync("select last_value from outbox.messages_id_seq");
        await probe.ProbeAsync(partitions, CancellationToken.None);
        Assert.Empty(woken.Partitions);
        await Enqueue.CommitAsync(Db, Enqueue.Event("t", keys[1], 1));
        await probe.ProbeAsync(partitions, CancellationToken.None);
        Assert.Equal([3], woken.Partitions);
        woken.Clear();
        await probe.ProbeAsync(partitions, CancellationToken.None);
        Assert.Empty(woken.Partitions);
        Assert.True(store.Horizon.Settled < lateId, $"settled {store.Horizon.Settled} passed the running transaction's id {lateId}");

        await late.CommitAsync();
        await probe.ProbeAsync(partitions, CancellationToken.None);
        Assert.Equal([3], woken.Partitions);
    }

    /// <summary>Records the partitions the probe asked to wake (the host's side of the interface).</summary>
    private sealed class WakeRecorder : Outbox.Grains.Wake.IPartitionWaker
    {
        private readonly List<int> _partitions = [];

        public IReadOnlyList<int> Partitions => _partitions;

        public void Wake(int partition) => _partitions.Add(partition);

        public void Clear() => _partitions.Clear();
    }
}
