using System.Globalization;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Outbox.Inbox.Schema;
using Outbox.Tools.Inbox;

namespace Outbox.Tools.Demo;

/// <summary>
/// The demo's consuming service: the ledger's inbox consumer on the demo database, fed by the relay through Kafka.
/// At the end it must have applied every committed event exactly once, in each order's version order, whatever
/// copies Kafka delivered (counted as the duplicates it absorbed).
/// </summary>
internal sealed class DemoConsumer : IAsyncDisposable
{
    private const string Group = "demo-ledger";
    private readonly IHost _host;
    private readonly InboxCounters _counters = new(Group);

    private DemoConsumer(IHost host) => _host = host;

    public static async Task<DemoConsumer> StartAsync(NpgsqlDataSource dataSource, string connectionString, string bootstrapServers, string topic,
        CancellationToken cancellationToken)
    {
        await new InboxMigrator(dataSource).MigrateAsync(cancellationToken).ConfigureAwait(false);
        await LedgerHandler.CreateTablesAsync(dataSource, cancellationToken).ConfigureAwait(false);
        var host = ConsumerHost.Build([], new Dictionary<string, string?>
        {
            ["Inbox:ConnectionString"] = connectionString,
            ["Inbox:BootstrapServers"] = bootstrapServers,
            ["Inbox:GroupId"] = Group,
            ["Inbox:Topics:0"] = topic,
            ["Inbox:Kafka:fetch.wait.max.ms"] = "10",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var consumer = new DemoConsumer(host);
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return consumer;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the ledger holds <paramref name="committed"/> entries, then checks it.</summary>
    public async Task<DemoConsumerResult> FinishAsync(NpgsqlDataSource dataSource, long committed, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await LedgerCheck.AppliedAsync(dataSource, cancellationToken).ConfigureAwait(false) < committed && DateTime.UtcNow < deadline)
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        await Task.Delay(500, cancellationToken).ConfigureAwait(false); // anything applied twice would show now
        var check = await LedgerCheck.RunAsync(dataSource, dataSource, cancellationToken).ConfigureAwait(false);
        return new DemoConsumerResult(check, _counters["outbox.inbox.duplicates"]);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        _host.Dispose();
        _counters.Dispose();
    }
}

/// <summary>What the demo's consumer applied, checked against the orders committed.</summary>
public sealed record DemoConsumerResult(LedgerCheck Ledger, long DuplicatesAbsorbed)
{
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"applied={Ledger.Applied} consumer_duplicates={DuplicatesAbsorbed} consumer_out_of_order={Ledger.OutOfOrder} consumer_doubled={Ledger.Doubled}");
}
