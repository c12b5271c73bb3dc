using Outbox.Contracts;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Grains;

/// <summary>The reminder of an idle partition: sleep until the next scheduled message, and never spin.</summary>
public sealed class ReminderTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task APartitionWithNothingScheduledHasNoReminderAndOneWithAScheduleWakesWhenItFallsDue()
    {
        var store = new OutboxStore(_db.DataSource, auditPublished: false);
        const string key = "order-1";
        var partition = OutboxPartitioner.PartitionOf(key, TestDatabase.Partitions);
        var epoch = await store.ActivateAsync(partition, "test", CancellationToken.None);

        // Nothing scheduled, and an immediate message waiting: no reminder (a zero here would make the relay spin).
        await Enqueue.CommitAsync(_db, new OutboxMessage("t", key, new byte[1]));
        Assert.Null(await store.TimeUntilNextDueAsync(partition, epoch, CancellationToken.None));

        await Enqueue.CommitAsync(_db, new OutboxMessage("t", "order-2", new byte[1]) { DeliverAt = DateTimeOffset.UtcNow.AddSeconds(30) });
        var other = OutboxPartitioner.PartitionOf("order-2", TestDatabase.Partitions);
        var otherEpoch = await store.ActivateAsync(other, "test", CancellationToken.None);
        var due = await store.TimeUntilNextDueAsync(other, otherEpoch, CancellationToken.None);
        Assert.NotNull(due);
        Assert.InRange(due.Value.TotalSeconds, 20, 30);
    }
}
