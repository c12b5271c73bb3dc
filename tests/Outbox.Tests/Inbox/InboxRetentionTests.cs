using Microsoft.Extensions.Logging.Abstractions;
using Outbox.Inbox;
using Outbox.Inbox.Consuming;
using Outbox.Inbox.Diagnostics;
using Outbox.Inbox.Schema;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Inbox;

/// <summary>The inbox stays bounded: retention removes recorded ids past their time, and nothing else.</summary>
public sealed class InboxRetentionTests : RelayTestBase
{
    [Fact]
    public async Task PurgeRemovesOnlyExpiredIdsInSmallBatchesAndKeepsThoseOfParkedEvents()
    {
        await new InboxMigrator(Db.DataSource).MigrateAsync();
        await using (var seed = Db.DataSource.CreateCommand("""
            insert into inbox.received (consumer_group, event_id, topic, key, sequence, received_at)
            select 'g', gen_random_uuid(), 't', 'k-' || i, i, now() - interval '2 days' from generate_series(1, 25) i;
            insert into inbox.received (consumer_group, event_id, topic, key, sequence, received_at)
            select 'g', gen_random_uuid(), 't', 'k-' || i, i, now() - interval '1 hour' from generate_series(26, 40) i;
            -- Another group's expired ids are its own retention's business.
            insert into inbox.received (consumer_group, event_id, topic, key, sequence, received_at)
            select 'other', gen_random_uuid(), 't', 'k-' || i, i, now() - interval '2 days' from generate_series(1, 5) i;
            -- An expired id whose event is still parked stays: a redelivered copy must not be parked twice.
            with parked as (
                insert into inbox.received (consumer_group, event_id, topic, key, sequence, received_at)
                values ('g', gen_random_uuid(), 't', 'k-parked', 99, now() - interval '3 days') returning event_id)
            insert into inbox.parked (consumer_group, event_id, topic, kafka_partition, kafka_offset, key, header_names, header_values, reason)
            select 'g', event_id, 't', 0, 1, 'k-parked', '{}', '{}', 'failed' from parked;
            """))
            await seed.ExecuteNonQueryAsync();
        var options = new InboxOptions { GroupId = "g", Retention = TimeSpan.FromDays(1), PurgeBatchSize = 7 };
        using var telemetry = new InboxTelemetry();

        var purged = await InboxRetention.PurgeExpiredAsync(Db.DataSource, options, telemetry, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(25, purged);
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from inbox.received where consumer_group = 'g' and received_at < now() - interval '1 day' and key <> 'k-parked'"));
        Assert.Equal(15, await Db.ScalarAsync("select count(*) from inbox.received where consumer_group = 'g' and key <> 'k-parked'"));
        Assert.Equal(1, await Db.ScalarAsync("select count(*) from inbox.received where key = 'k-parked'"));
        Assert.Equal(5, await Db.ScalarAsync("select count(*) from inbox.received where consumer_group = 'other'"));
        Assert.Equal(0, await InboxRetention.PurgeExpiredAsync(Db.DataSource, options, telemetry, NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public async Task TheSchemaIsAppliedOnceAndItsScriptsRecordThemselvesForADba()
    {
        Assert.Equal([1], await new InboxMigrator(Db.DataSource).MigrateAsync());
        Assert.Empty(await new InboxMigrator(Db.DataSource).MigrateAsync());
        Assert.Equal(1, await Db.ScalarAsync("select count(*) from inbox.schema_migrations where version = 1"));
    }
}
