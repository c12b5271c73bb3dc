using Outbox.Grains.Relay;

namespace Outbox.Tests.Grains;

/// <summary>
/// The reader hands rows to a partition's feed on its own loop, while the partition's activation may be disposed at any
/// moment (deactivation): a signal to a disposed feed must not throw, or the reader loses the rest of its feed window.
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
}
