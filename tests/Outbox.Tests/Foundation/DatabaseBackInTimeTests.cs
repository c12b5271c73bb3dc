using System.Diagnostics;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Foundation;

/// <summary>
/// The database can go back in time: a sequence handed out again, a standby promoted in place of the primary. What the
/// relay keeps in memory belongs to one incarnation of the database, and a row is named by id and event id together.
/// </summary>
public sealed class DatabaseBackInTimeTests(ITestOutputHelper output) : PrivateServerTestBase
{
    /// <summary>Long enough that only the change feed, not the periodic sweep, can publish within a test.</summary>
    private static readonly Dictionary<string, string> FeedOnly = new() { ["Relay:SweepInterval"] = "00:30:00" };

    /// <summary>
    /// The read position this replaced passed ids it had seen: rows that drew those ids again were stranded below it until
    /// a full read a minute later. The feed follows transactions, not ids.
    /// </summary>
    [Fact]
    public async Task RowsThatReuseIdsAfterTheSequenceWasSetBackArePublishedPromptlyAndInOrder()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: FeedOnly);
        var before = await Preload.EventsAsync(Db, topic, keys: 20, versionsPerKey: 5);
        Assert.Equal(0, await verifier.WaitForAsync(before, TimeSpan.FromSeconds(30)));
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(20), "the relay removes what it published");

        await Db.ScalarAsync("select setval('outbox.messages_id_seq', 1, false)");
        var written = Stopwatch.StartNew();
        var after = await Preload.EventsAsync(Db, topic, keys: 20, versionsPerKey: 5, keyPrefix: "key", firstVersion: 6);

        Assert.True(await Db.ScalarAsync("select max(id) from outbox.messages") <= 100, "the new rows reuse the published rows' ids");
        Assert.Equal(0, await verifier.WaitForAsync(after, TimeSpan.FromSeconds(10)));
        output.WriteLine($"published {written.Elapsed.TotalSeconds:0.0}s after they were written");
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(0, verifier.Duplicates);
    }

    /// <summary>A completion names an id whose row was published; the id now names another, unpublished message.</summary>
    [Fact]
    public async Task ACompletionOfAnIdThatNowNamesAnotherMessageRemovesNothing()
    {
        var row = await Db.ScalarAsync("""
            insert into outbox.messages (partition, event_id, topic, key, payload) values (0, gen_random_uuid(), 't', 'k', '\x00')
            returning id
            """);
        var epoch = await new OutboxStore(Db.DataSource).ActivateAsync(0, "test", CancellationToken.None);
        await using var completer = new RelayCompleter(Db.DataSource, Microsoft.Extensions.Options.Options.Create(new RelayOptions()));

        var result = await completer.CompleteAsync(0, epoch, new BatchCompletion([new RowRef(row, Guid.NewGuid())], [], []), CancellationToken.None);

        Assert.Equal(0, result.Removed);
        Assert.Equal(1, await Db.ScalarAsync($"select count(*) from outbox.messages where id = {row}"));
    }

    /// <summary>
    /// The primary dies under load; its synchronous standby is promoted and made reachable where the primary was, as a
    /// virtual address would move. The relay notices it talks to another server and carries on with no operator: what was
    /// committed is published, in order, and what the writers commit afterwards too.
    /// </summary>
    [Fact]
    public async Task ASynchronousStandbyPromotedWhereThePrimaryWasIsFollowedWithoutAnOperator()
    {
        var standby = await StartSynchronousStandbyAsync();
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 100, rollbackRatio: 0.05);
        await workload.CreateTablesAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var writing = Task.Run(() => workload.RunAsync(int.MaxValue, 300, writers: 4, stop.Token, tolerateFailures: true));
        await Task.Delay(TimeSpan.FromSeconds(4));

        await Server.CrashAsync();
        await standby.PromoteInPlaceOfAsync(Server);
        // Time to resume: from the promoted standby taking connections to a row committed then reaching Kafka.
        var upAgain = System.Diagnostics.Stopwatch.StartNew();
        var marker = await Enqueue.CommitWhenAcceptedAsync(Db, topic, TimeSpan.FromSeconds(30));
        Assert.Equal(0, await verifier.WaitForAsync([marker], TimeSpan.FromSeconds(60)));
        var resumed = upAgain.Elapsed;
        var promoted = workload.CommittedCount;
        await Eventually.TrueAsync(() => Task.FromResult(workload.CommittedCount > promoted + 300), TimeSpan.FromSeconds(60),
            "the writers commit on the promoted standby");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);

        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(90));
        await Task.Delay(TimeSpan.FromSeconds(2));
        output.WriteLine($"committed={workload.Committed.Count} unknown={workload.Unknown.Count} failed={workload.Failures} " +
                         $"received={verifier.Received} lost={missing} duplicates={verifier.Duplicates} out_of_order={verifier.OutOfOrder} " +
                         $"resumed={resumed.TotalSeconds:0.00}s");
        Assert.Equal(0, missing);
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.DoesNotContain(workload.RolledBack, verifier.HasSeen);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(30), "the relay empties the outbox of the promoted standby");
    }
}
