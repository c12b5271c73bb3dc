using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Outbox.Contracts;
using Outbox.EntityFrameworkCore;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.EntityFrameworkCore;

/// <summary>
/// Enqueueing through an EF Core DbContext: a message reaches Kafka if and only if the transaction that carries the
/// context's changes commits, whichever transaction that is (EF's own for SaveChanges, the context's explicit one),
/// through the execution strategy's retries and EF's automatic savepoints; invalid messages are refused by the C#
/// validator and by the database alike. An independent consumer checks what reached Kafka.
/// </summary>
public sealed class EntityFrameworkCoreEnqueueTests : RelayTestBase
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(30);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var create = Db.DataSource.CreateCommand("create table shop_orders (id text primary key, status text not null)");
        await create.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task CommittedSavesArePublishedAndRolledBackOnesNever()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        // SaveChanges in EF's own transaction (one INSERT, which EF would otherwise run without a transaction).
        var saved = Enqueue.Event(topic, "order-1", 1);
        await using (var context = ShopContext.Create(Db.ConnectionString))
        {
            context.Orders.Add(new ShopOrder { Id = "order-1", Status = "paid" });
            context.AddOutboxMessage(saved);
            await context.SaveChangesAsync();
        }

        // The context's explicit transaction, rolled back after its SaveChanges: neither the order nor the event exists.
        var rolledBack = Enqueue.Event(topic, "order-2", 1);
        await using (var context = ShopContext.Create(Db.ConnectionString))
        {
            await context.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                await using var transaction = await context.Database.BeginTransactionAsync();
                context.Orders.Add(new ShopOrder { Id = "order-2", Status = "paid" });
                context.AddOutboxMessage(rolledBack);
                await context.SaveChangesAsync();
                await transaction.RollbackAsync();
            });
        }

        // Written at once into the explicit transaction, which commits.
        var enqueued = Enqueue.Event(topic, "order-3", 1);
        await using (var context = ShopContext.Create(Db.ConnectionString))
        {
            await context.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                await using var transaction = await context.Database.BeginTransactionAsync();
                await context.EnqueueAsync(enqueued);
                context.Orders.Add(new ShopOrder { Id = "order-3", Status = "paid" });
                await context.SaveChangesAsync();
                await transaction.CommitAsync();
            });
        }

        // A message alone, with no entity to save.
        var alone = Enqueue.Event(topic, "order-4", 1);
        await using (var context = ShopContext.Create(Db.ConnectionString))
        {
            context.AddOutboxMessage(alone);
            await context.SaveChangesAsync();
        }

        Assert.Equal(0, await verifier.WaitForAsync([saved.EventId, enqueued.EventId, alone.EventId], Arrival));
        await Task.Delay(1000); // time for anything wrongly published to show up
        Assert.False(verifier.HasSeen(rolledBack.EventId));
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(2, await Db.ScalarAsync("select count(*) from shop_orders")); // order-1 and order-3; order-2 rolled back
    }

    [Fact]
    public async Task AFailedSaveKeepsItsMessagesForTheNextOneAndPublishesNothingOfItsOwn()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using (var seed = ShopContext.Create(Db.ConnectionString))
        {
            seed.Orders.Add(new ShopOrder { Id = "taken", Status = "new" });
            await seed.SaveChangesAsync();
        }

        var message = Enqueue.Event(topic, "order-5", 1);
        await using var context = ShopContext.Create(Db.ConnectionString);
        var duplicate = new ShopOrder { Id = "taken", Status = "paid" };
        context.Orders.AddRange(new ShopOrder { Id = "order-5", Status = "paid" }, duplicate);
        context.AddOutboxMessage(message);
        await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync());
        await Task.Delay(2000);
        Assert.False(verifier.HasSeen(message.EventId));
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));

        // As EF keeps the entities it could not save, the context keeps the message: the next save publishes it once.
        context.Entry(duplicate).State = EntityState.Detached;
        await context.SaveChangesAsync();
        Assert.Equal(0, await verifier.WaitForAsync([message.EventId], Arrival));
        await Task.Delay(1000);
        Assert.Equal(1, verifier.Received);
    }

    [Fact]
    public async Task ASaveInsideTheContextsTransactionThatFailsToItsSavepointKeepsTheMessagesTheTransactionCommits()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using (var seed = ShopContext.Create(Db.ConnectionString))
        {
            seed.Orders.Add(new ShopOrder { Id = "taken", Status = "new" });
            await seed.SaveChangesAsync();
        }

        var message = Enqueue.Event(topic, "order-6", 1);
        await using var context = ShopContext.Create(Db.ConnectionString);
        await context.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await context.Database.BeginTransactionAsync();
            var duplicate = new ShopOrder { Id = "taken", Status = "paid" };
            context.Orders.Add(duplicate);
            context.AddOutboxMessage(message);
            // EF rolls the failed save back to its automatic savepoint; the transaction goes on.
            await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync());
            context.Entry(duplicate).State = EntityState.Detached;
            context.Orders.Add(new ShopOrder { Id = "order-6", Status = "paid" });
            await context.SaveChangesAsync();
            await transaction.CommitAsync();
        });

        Assert.Equal(0, await verifier.WaitForAsync([message.EventId], Arrival));
        await Task.Delay(1000);
        Assert.Equal(1, verifier.Received);
        Assert.Equal(1, await Db.ScalarAsync("select count(*) from shop_orders where id = 'order-6'"));
    }

    [Fact]
    public async Task ASaveRetriedByTheExecutionStrategyPublishesItsMessagesOnce()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var cut = new CutConnectionOnce(Db.ConnectionString);

        var messages = Enumerable.Range(1, 3).Select(v => Enqueue.Event(topic, "order-7", v)).ToArray();
        await using (var context = ShopContext.Create(Db.ConnectionString, options => options.AddInterceptors(cut)))
        {
            context.Orders.Add(new ShopOrder { Id = "order-7", Status = "paid" });
            context.AddOutboxMessages(messages);
            await context.SaveChangesAsync();
        }

        Assert.True(cut.Cut, "the first attempt's connection was terminated after the messages were written in it");
        Assert.Equal(0, await verifier.WaitForAsync(messages.Select(m => m.EventId).ToArray(), Arrival));
        await Task.Delay(1000);
        Assert.Equal(3, verifier.Received);
        Assert.Equal(0, verifier.OutOfOrder);
    }

    [Fact]
    public async Task InvalidMessagesAreRefusedByTheValidatorAndByTheDatabaseAndNothingIsSaved()
    {
        await using var context = ShopContext.Create(Db.ConnectionString);
        Assert.Throws<OutboxValidationException>(() => context.AddOutboxMessage(new OutboxMessage("bad topic!", "k", new byte[1])));

        // The database checks the deployment's Kafka message size, which the C# validator cannot know.
        await using (var limit = Db.DataSource.CreateCommand("update outbox.settings set message_max_bytes = 1000"))
            await limit.ExecuteNonQueryAsync();
        context.Orders.Add(new ShopOrder { Id = "order-8", Status = "paid" });
        context.AddOutboxMessage(new OutboxMessage("events", "order-8", new byte[5000]));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => context.SaveChangesAsync());
        Assert.Contains(Chain(error), e => e is OutboxValidationException);
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from shop_orders"));
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Fact]
    public async Task EnqueueOutsideATransactionIsRefusedAndAContextWithoutUseOutboxIsTold()
    {
        await using var context = ShopContext.Create(Db.ConnectionString);
        await Assert.ThrowsAsync<InvalidOperationException>(() => context.EnqueueAsync(Enqueue.Event("events", "k", 1)));

        var options = new DbContextOptionsBuilder<ShopContext>().UseNpgsql(Db.ConnectionString).Options;
        await using var plain = new ShopContext(options);
        var error = Assert.Throws<InvalidOperationException>(() => plain.AddOutboxMessage(Enqueue.Event("events", "k", 1)));
        Assert.Contains("UseOutbox", error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Chain(Exception? error)
    {
        for (; error is not null; error = error.InnerException) yield return error;
    }

    /// <summary>
    /// Terminates the backend of the first INSERT into shop_orders, as a failover or a network cut would: its transaction,
    /// which already holds the outbox rows, is gone, and the execution strategy retries the whole save.
    /// </summary>
    private sealed class CutConnectionOnce(string connectionString) : DbCommandInterceptor
    {
        public bool Cut { get; private set; }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            await CutAsync(command, cancellationToken);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            await CutAsync(command, cancellationToken);
            return result;
        }

        private async Task CutAsync(DbCommand command, CancellationToken cancellationToken)
        {
            if (Cut || !command.CommandText.Contains("shop_orders", StringComparison.Ordinal)) return;
            Assert.Equal(3, await CountOutboxRowsAsync(command, cancellationToken)); // written in this transaction already
            Cut = true;
            await using var admin = new NpgsqlConnection(connectionString);
            await admin.OpenAsync(cancellationToken);
            await using var terminate = new NpgsqlCommand("select pg_terminate_backend(@pid)", admin);
            terminate.Parameters.AddWithValue("pid", ((NpgsqlConnection)command.Connection!).ProcessID);
            await terminate.ExecuteNonQueryAsync(cancellationToken);
        }

        private static async Task<long> CountOutboxRowsAsync(DbCommand command, CancellationToken cancellationToken)
        {
            await using var count = command.Connection!.CreateCommand();
            count.Transaction = command.Transaction;
            count.CommandText = "select count(*) from outbox.messages";
            return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
