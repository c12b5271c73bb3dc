using Npgsql;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>
/// Exactly-once mode on the embedded Kafka, each checked by an independent read-committed consumer. The mock
/// cluster shows a read-committed consumer aborted and unfinished transactions too, so the faults here are
/// those whose outcome it shows faithfully: a commit followed by a crash, a transaction aborted before its data
/// reached a partition, a commit Kafka fails and retries.
/// </summary>
public sealed class TransactionalDeliveryTests : RelayTestBase
{
    private const int Partition = 3;

    [Fact]
    public async Task RowsCommittedToKafkaButNotYetRemovedAreNotPublishedAgainAfterACrash()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var harness = await ExactlyOnceHarness.StartAsync(Db, Kafka);
        var ids = await EnqueueAsync(topic, keys: 5, versions: 10);

        await using (var crashed = await harness.ActivateAsync(Partition))
        {
            var (read, summary) = await crashed.PublishNextBatchAsync(removeRows: false);
            Assert.Equal(ids.Length, read);
            Assert.Equal(ids.Length, summary.Completion.Published.Count);
        }
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(20)));
        Assert.Equal(ids.Length, await Db.ScalarAsync("select count(*) from outbox.messages"));

        await using var successor = await harness.ActivateAsync(Partition);

        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));
        Assert.Equal(0, (await successor.PublishNextBatchAsync()).Read);
        var later = await EnqueueAsync(topic, keys: 5, versions: 2, firstVersion: 11);
        Assert.Equal(later.Length, (await successor.PublishNextBatchAsync()).Result.Completion.Published.Count);
        Assert.Equal(0, await verifier.WaitForAsync(later, TimeSpan.FromSeconds(20)));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(ids.Length + later.Length, verifier.Received);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
    }

    [Fact]
    public async Task ATransactionAbortedBeforeItsRowsReachedKafkaIsPublishedAgainExactlyOnce()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var harness = await ExactlyOnceHarness.StartAsync(Db, Kafka);
        var ids = await EnqueueAsync(topic, keys: 5, versions: 10);
        await using var activation = await harness.ActivateAsync(Partition);

        Kafka.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.AddPartitionsToTxn, MockKafkaCluster.Errors.TopicAuthorizationFailed);
        var (read, aborted) = await activation.PublishNextBatchAsync();
        Assert.Equal(ids.Length, read);
        Assert.Equal(ids.Length, aborted.Retry.Count);
        Assert.True(aborted.Completion.IsEmpty);
        Assert.Equal(ids.Length, await Db.ScalarAsync("select count(*) from outbox.messages"));

        var (_, retried) = await activation.PublishNextBatchAsync();

        Assert.Equal(ids.Length, retried.Completion.Published.Count);
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(20)));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(ids.Length, verifier.Received);
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Fact]
    public async Task ACommitKafkaFailsIsRetriedAndEveryRowArrivesExactlyOnce()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var harness = await ExactlyOnceHarness.StartAsync(Db, Kafka);
        var ids = await EnqueueAsync(topic, keys: 5, versions: 10);
        await using var activation = await harness.ActivateAsync(Partition);

        Kafka.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.EndTxn, MockKafkaCluster.Errors.NotCoordinator,
            MockKafkaCluster.Errors.CoordinatorLoadInProgress, MockKafkaCluster.Errors.ConcurrentTransactions);
        var (_, summary) = await activation.PublishNextBatchAsync();

        Assert.Equal(ids.Length, summary.Completion.Published.Count);
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(20)));
        await using var next = await harness.ActivateAsync(Partition);
        Assert.Equal(0, (await next.PublishNextBatchAsync()).Read);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(ids.Length, verifier.Received);
        Assert.Equal(0, verifier.OutOfOrder);
    }

    [Fact]
    public async Task AMessageKafkaRefusesForGoodIsParkedWithItsKeyAndTheOtherKeysAreCommitted()
    {
        var allowed = Kafka.CreateTopic("allowed");
        var forbidden = Kafka.CreateTopic("forbidden");
        Kafka.Cluster.SetTopicError(forbidden, MockKafkaCluster.Errors.TopicAuthorizationFailed);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, allowed);
        await using var harness = await ExactlyOnceHarness.StartAsync(Db, Kafka);
        var keys = ExactlyOnceHarness.KeysOf(Partition, 4);
        var poison = Enqueue.Event(forbidden, keys[0], 1);
        var behindPoison = Enqueue.Event(allowed, keys[0], 2);
        var others = keys[1..].SelectMany(k => Enumerable.Range(1, 3).Select(v => Enqueue.Event(allowed, k, v))).ToArray();
        await Enqueue.CommitAsync(Db, [poison, behindPoison, .. others]);
        await using var activation = await harness.ActivateAsync(Partition);

        var (_, summary) = await activation.PublishNextBatchAsync();

        var parked = Assert.Single(summary.Completion.Parked);
        Assert.Contains("TopicAuthorizationFailed", parked.Reason, StringComparison.Ordinal);
        Assert.Equal(others.Length, summary.Completion.Published.Count);
        Assert.Equal(0, await verifier.WaitForAsync(others.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(20)));
        Assert.Equal(0, verifier.OutOfOrder);
        // The row behind the poison stays, held behind it. (The mock cluster shows read-committed consumers the aborted
        // first attempt as well, so what the verifier saw of that attempt proves nothing either way.)
        Assert.Equal(1, await Db.ScalarAsync($"select count(*) from outbox.messages where parked_at is not null and event_id = '{poison.EventId}'"));
        Assert.Equal(1, await Db.ScalarAsync(
            $"select count(*) from outbox.messages where parked_at is null and deliver_at = 'infinity' and event_id = '{behindPoison.EventId}'"));
    }

    /// <summary>
    /// A removal waiting for a row lock (a transaction of someone else's holds it) holds the silo's completer until the lock
    /// goes. A partition starting its session meanwhile does not wait behind it: its epoch check once was an empty
    /// completion, queued behind the waiting one, so a silo whose first removal met a lock started no further partition.
    /// </summary>
    [Fact]
    public async Task APartitionStartsItsSessionWhileAnotherPartitionsRemovalWaitsForARowLock()
    {
        var topic = Kafka.CreateTopic();
        await using var harness = await ExactlyOnceHarness.StartAsync(Db, Kafka);
        await EnqueueAsync(topic, keys: 2, versions: 1);
        await using var first = await harness.ActivateAsync(Partition);
        await using var locker = await Db.DataSource.OpenConnectionAsync();
        await using var locks = await locker.BeginTransactionAsync();
        await using (var lockRows = new NpgsqlCommand("select count(*) from (select 1 from outbox.messages for key share) l", locker, locks))
            await lockRows.ExecuteScalarAsync();

        var removal = first.PublishNextBatchAsync();
        await Eventually.TrueAsync(async () => await Db.ScalarAsync(
                "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'") == 1,
            TimeSpan.FromSeconds(20), "the first partition's removal waits for the row lock");
        var second = harness.ActivateAsync(Partition + 1);

        await using var started = await second.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(removal.IsCompleted);
        await locks.RollbackAsync();
        Assert.Equal(2, (await removal.WaitAsync(TimeSpan.FromSeconds(20))).Result.Completion.Published.Count);
    }

    private async Task<Guid[]> EnqueueAsync(string topic, int keys, int versions, int firstVersion = 1)
    {
        var partitionKeys = ExactlyOnceHarness.KeysOf(Partition, keys);
        var ids = new List<Guid>();
        for (var v = firstVersion; v < firstVersion + versions; v++)
            ids.AddRange(await Enqueue.CommitAsync(Db, partitionKeys.Select(k => Enqueue.Event(topic, k, v)).ToArray()));
        return ids.ToArray();
    }
}
