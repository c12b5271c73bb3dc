using System.Diagnostics;
using Microsoft.Extensions.Options;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Grains;

/// <summary>
/// The silo's completer spaces its durable commits while no partition waiting for one has more to publish, and never
/// keeps waiting a partition that has: its next batch waits for its completion.
/// </summary>
public sealed class RelayCompleterTests : RelayTestBase
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task RemovalsOfIdlePartitionsWaitForTheIntervalAndOneWithRowsWaitingTakesThemAlongAtOnce()
    {
        var store = new OutboxStore(Db.DataSource);
        await using var completer = new RelayCompleter(Db.DataSource, Options.Create(new RelayOptions { CompletionInterval = Interval }));
        var feeds = new PartitionFeed[3];
        for (var partition = 0; partition < feeds.Length; partition++)
        {
            feeds[partition] = new PartitionFeed(partition, await store.ActivateAsync(partition, "completer-test", CancellationToken.None), 10, 1_000);
            feeds[partition].Advance(null); // follows the feed, nothing queued: nothing more to publish
        }
        var rows = new long[3];
        for (var partition = 0; partition < rows.Length; partition++)
            rows[partition] = await Db.ScalarAsync(
                $"insert into outbox.messages (partition, event_id, topic, key, payload) values ({partition}, gen_random_uuid(), 't', 'k', '\\x00') returning id");

        // The first statement goes at once; the next one of an idle partition waits for the interval from its start.
        Assert.Equal(1, (await completer.CompleteAsync(feeds[0], Removal(rows[0]), CancellationToken.None)).Removed);
        var clock = Stopwatch.StartNew();
        var idle = completer.CompleteAsync(feeds[1], Removal(rows[1]), CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.False(idle.IsCompleted, "an idle partition's removal waits for others to share its commit");

        // A partition with rows waiting goes at once, and the waiting removal goes in the same statement.
        feeds[2].Append([new OutboxRow(99, Guid.NewGuid(), "t", "k", [0], null, null, DateTimeOffset.UtcNow, null, null)], sequence: 1);
        Assert.Equal(1, (await completer.CompleteAsync(feeds[2], Removal(rows[2]), CancellationToken.None)).Removed);
        Assert.Equal(1, (await idle).Removed);
        Assert.True(clock.Elapsed < Interval, $"the removals took {clock.Elapsed.TotalMilliseconds:0} ms, the interval is {Interval.TotalMilliseconds:0} ms");
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));
    }

    private static BatchCompletion Removal(long id) => new([new RowRef(id, null)], [], []);
}
