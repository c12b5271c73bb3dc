using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Outbox.Contracts.Schema;
using Outbox.Silo.Membership;
using Outbox.Silo.Commands;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Membership;

/// <summary>
/// Migration 012 is everything Orleans' ADO.NET clustering and reminder providers need: two real silos join through
/// it, a client finds their gateways in it, a reminder is stored and fires from it, and a silo that leaves is
/// recorded as dead in it.
/// </summary>
public sealed class OrleansTablesTests : IAsyncLifetime
{
    private const int Active = 3;
    private const int Dead = 6;

    private readonly TestDatabase _db = new();
    private readonly string _clusterId = "outbox-test-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task TwoSilosJoinAsActiveAReminderFiresAndStaysAndAStoppedSiloIsRecordedDead()
    {
        var ticks = new ReminderTicks();
        await using var first = await AdoNetSilo.StartAsync(_db.ConnectionString, _clusterId, "silo-a", ticks);
        await using var second = await AdoNetSilo.StartAsync(_db.ConnectionString, _clusterId, "silo-b", ticks);

        await Eventually.TrueAsync(async () => await StatusOfAsync("silo-a") == Active && await StatusOfAsync("silo-b") == Active,
            TimeSpan.FromSeconds(30), "both silos Active in orleans.membership");
        var heardAt = await IAmAliveOfAsync("silo-a");
        await Eventually.TrueAsync(async () => await IAmAliveOfAsync("silo-a") > heardAt, TimeSpan.FromSeconds(15),
            "the heartbeat moves iam_alive_time");

        // An external client finds the gateways through the same table (GatewaysQueryKey) and registers a reminder.
        await using var clientDataSource = OrleansStorage.CreateDataSource(_db.ConnectionString, "outbox-client");
        using var client = await StartClientAsync(clientDataSource);
        await client.Services.GetRequiredService<IClusterClient>().GetGrain<IReminderProbeGrain>(7)
            .RegisterAsync(dueTime: TimeSpan.FromSeconds(1), period: TimeSpan.FromMinutes(1));
        Assert.Equal(ReminderProbeGrain.ReminderName, await ticks.First.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(1, await CountAsync(
            "select count(*) from orleans.reminders where service_id = @c and reminder_name = 'probe' and period_ms = 60000"));
        await client.StopAsync();

        await second.StopAsync();
        Assert.Equal(Dead, await StatusOfAsync("silo-b"));
        Assert.Equal(Active, await StatusOfAsync("silo-a"));
        Assert.Equal(1, await CountAsync("select count(*) from orleans.reminders where service_id = @c"));
    }

    [Fact]
    public async Task MigratingAgainChangesNothingAndEveryProviderQueryIsPresent()
    {
        var root = new RootCommand { MigrateCommand.Create() };
        var output = new StringWriter();
        var code = await CliInvocation.InvokeAsync(root,
            ["migrate", "--partitions", TestDatabase.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), "--db", _db.ConnectionString],
            new InvocationConfiguration { Output = output, Error = new StringWriter() });

        Assert.Equal(0, code);
        Assert.Contains("up to date", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.schema_migrations where name = '012_orleans.sql'"));
        string[] keys =
        [
            "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "UpdateIAmAlivetimeKey",
            "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
            "CleanupDefunctSiloEntriesKey", "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey",
            "ReadRangeRows1Key", "ReadRangeRows2Key", "DeleteReminderRowKey", "DeleteReminderRowsKey",
        ];
        Assert.Equal(keys.Order(StringComparer.Ordinal), await QueryKeysAsync());
    }

    [Fact]
    public async Task MembershipWritesCommitSynchronouslyOnAnAsynchronouslyCommittingConnection()
    {
        var relayLike = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Options = "-c synchronous_commit=off" };
        await using var connection = new NpgsqlConnection(relayLike.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using var write = new NpgsqlCommand(
            "insert into orleans.membership_version (deployment_id) values ('sync-check'); select current_setting('synchronous_commit')",
            connection, tx);
        Assert.Equal("on", await write.ExecuteScalarAsync());
    }

    private async Task<IHost> StartClientAsync(NpgsqlDataSource dataSource)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = _clusterId;
                o.ServiceId = _clusterId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansStorage.Invariant;
                o.DataSource = dataSource;
            });
        });
        var host = builder.Build();
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(connecting.Token);
        return host;
    }

    private async Task<int?> StatusOfAsync(string siloName)
    {
        await using var command = _db.DataSource.CreateCommand(
            "select status from orleans.membership where deployment_id = @c and silo_name = @s order by start_time desc limit 1");
        command.Parameters.AddWithValue("c", _clusterId);
        command.Parameters.AddWithValue("s", siloName);
        return await command.ExecuteScalarAsync() as int?;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("c", _clusterId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<DateTime> IAmAliveOfAsync(string siloName)
    {
        await using var command = _db.DataSource.CreateCommand(
            "select iam_alive_time from orleans.membership where deployment_id = @c and silo_name = @s order by start_time desc limit 1");
        command.Parameters.AddWithValue("c", _clusterId);
        command.Parameters.AddWithValue("s", siloName);
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }

    private async Task<List<string>> QueryKeysAsync()
    {
        await using var command = _db.DataSource.CreateCommand("select querykey from orleans.orleansquery order by querykey collate \"C\"");
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        return keys;
    }
}
