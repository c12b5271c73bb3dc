using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outbox.Inbox;
using Outbox.Inbox.Hosting;
using Outbox.Inbox.Schema;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Inbox;
using Published = Outbox.Tools.Inbox.LedgerEvents.OrderEvent;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Inbox;

/// <summary>
/// A consuming service's database (a fresh one per test, with the ledger tables) and an embedded Kafka; events are
/// produced as the relay publishes them (outbox-* headers, a version header rising per key), so each test controls
/// copies, sequences and order exactly.
/// </summary>
public abstract class InboxTestBase : RelayTestBase
{
    private readonly List<IHost> _hosts = [];
    private readonly InboxCounters _counters;

    protected InboxTestBase() => _counters = new InboxCounters(Group);

    /// <summary>The sum of one of the inbox's counters (e.g. "outbox.inbox.duplicates") for this test's group.</summary>
    protected long Counted(string instrument) => _counters[instrument];

    protected string Group { get; } = "ledger-" + Guid.NewGuid().ToString("N")[..8];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await new InboxMigrator(Db.DataSource).MigrateAsync();
        await LedgerHandler.CreateTablesAsync(Db.DataSource, CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        foreach (var host in _hosts.ToArray()) await StopAsync(host);
        _counters.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>Events for <paramref name="keys"/> keys with versions 1..<paramref name="versions"/>, sequences rising in that order.</summary>
    protected static List<Published> Events(int keys, int versions, string prefix = "order") => LedgerEvents.Create(keys, versions, prefix);

    protected Task ProduceAsync(string topic, IEnumerable<Published> events) => LedgerEvents.ProduceAsync(Kafka.BootstrapServers, topic, events);

    /// <summary>Starts a consuming service with <typeparamref name="THandler"/> on the test's database and Kafka.</summary>
    protected async Task<IHost> StartConsumerAsync<THandler>(string topic, Action<InboxOptions>? configure = null, int delayMs = 0)
        where THandler : class, IInboxHandler
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Ledger:DelayMs"] = delayMs.ToString(CultureInfo.InvariantCulture) });
        builder.Logging.AddFilter(level => level >= LogLevel.Warning);
        builder.Services.AddOutboxConsumer<THandler>(o =>
        {
            o.ConnectionString = Db.ConnectionString;
            o.BootstrapServers = Kafka.BootstrapServers;
            o.GroupId = Group;
            o.Topics.Add(topic);
            o.MaxPoolSize = 6;
            o.RetryDelay = TimeSpan.FromMilliseconds(20);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(500);
            o.ParkedCheckInterval = TimeSpan.FromMilliseconds(200);
            o.CommitInterval = TimeSpan.FromMilliseconds(200);
            o.Kafka["session.timeout.ms"] = "6000";
            o.Kafka["heartbeat.interval.ms"] = "500";
            o.Kafka["fetch.wait.max.ms"] = "10";
            configure?.Invoke(o);
        });
        var host = builder.Build();
        await host.StartAsync();
        _hosts.Add(host);
        return host;
    }

    protected async Task StopAsync(IHost host)
    {
        if (!_hosts.Remove(host)) return;
        try
        {
            await host.StopAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            host.Dispose();
        }
    }

    protected Task<long> AppliedAsync() => LedgerCheck.AppliedAsync(Db.DataSource, CancellationToken.None);

    protected async Task WaitForAppliedAsync(long count, TimeSpan timeout)
    {
        long last = 0;
        await Eventually.TrueAsync(async () => (last = await AppliedAsync()) >= count, timeout,
            $"the consumer applies {count} events (applied {last})");
    }

    /// <summary>The ledger checked against the versions the test published per key (1..n each).</summary>
    protected async Task<LedgerCheck> CheckLedgerAsync(IEnumerable<Published> expected)
    {
        await using (var orders = Db.DataSource.CreateCommand("""
            create table if not exists orders (id text primary key, version bigint not null default 0);
            truncate orders;
            insert into orders (id, version) select key, max(version) from unnest(@keys, @versions) as e(key, version) group by key;
            """))
        {
            var list = expected.ToList();
            orders.Parameters.AddWithValue("keys", list.Select(e => e.Key).ToArray());
            orders.Parameters.AddWithValue("versions", list.Select(e => e.Version).ToArray());
            await orders.ExecuteNonQueryAsync();
        }
        return await LedgerCheck.RunAsync(Db.DataSource, Db.DataSource, CancellationToken.None);
    }

    protected async Task<List<(long Id, string Key, long Version, string Reason)>> ParkedAsync()
    {
        await using var command = Db.DataSource.CreateCommand(
            "select id, key, convert_from(header_values[array_position(header_names, 'version')], 'UTF8')::bigint, reason from inbox.parked order by id");
        await using var reader = await command.ExecuteReaderAsync();
        var parked = new List<(long, string, long, string)>();
        while (await reader.ReadAsync()) parked.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        return parked;
    }
}
