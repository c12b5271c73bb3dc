using Outbox.Grains.Relay;
using Outbox.Grains.Storage;

namespace Outbox.Tests.Grains;

/// <summary>
/// The reader hands rows to a partition's feed on its own loop, while the partition's activation takes them and may be
/// disposed at any moment (deactivation).
/// </summary>
[Trait("Category", "Unit")]
public sealed class PartitionFeedTests
{
    [Fact]
    public void AFeedWhoseActivationWasDisposedTakesSignalsAndSchedulesWithoutThrowing()
    {
        var feed = new PartitionFeed(partition: 1, epoch: 1, maxRows: 10, maxBytes: 1_000);
        feed.Dispose();

        feed.Signal();
        feed.SetDue(42);
        feed.ReadFrom(0);

        Assert.Equal(42, feed.DueAt);
    }

    /// <summary>
    /// A partition catching up reads one batch at a time, when its queue has room: the activation making room tells the
    /// reader at once, once, rather than leaving the read to the reader's next interval.
    /// </summary>
    [Fact]
    public void TakingRowsFromAFullQueueOfAPartitionCatchingUpAsksTheReaderForItsNextReadOnce()
    {
        var asked = 0;
        var feed = new PartitionFeed(partition: 1, epoch: 1, maxRows: 10, maxBytes: 1_000, roomForRead: () => asked++);
        feed.Append(Enumerable.Range(1, 10).Select(Row), sequence: 1);
        Assert.False(feed.HasRoomForRead());

        feed.Take(maxRows: 4, budget: 1_000);
        Assert.Equal(0, asked); // 6 rows wait: still more than a batch
        feed.Take(maxRows: 4, budget: 1_000);
        Assert.Equal(1, asked);
        Assert.True(feed.HasRoomForRead());
        feed.Take(maxRows: 4, budget: 1_000);
        Assert.Equal(1, asked);

        // A partition following the feed does not read itself: nothing to ask for.
        feed.Advance(null);
        feed.Append(Enumerable.Range(11, 10).Select(Row), sequence: 2);
        feed.Take(maxRows: 10, budget: 1_000);
        Assert.Equal(1, asked);
    }

    private static OutboxRow Row(int id) =>
        new(id, Guid.NewGuid(), "topic", $"key-{id}", [1], null, null, DateTimeOffset.UtcNow, null, null);
}
