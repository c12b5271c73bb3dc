using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using Outbox.Grains.Hosting;
using Outbox.Grains.Relay;
using Outbox.Silo.Hosting;
using Outbox.Silo.Membership;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Grains;

/// <summary>
/// An Orleans TestingHost cluster (in-process silos) hosting the relay as an embedding service does, through
/// <see cref="OutboxRelaySiloBuilderExtensions.AddOutboxRelay"/> configured from configuration alone, against the
/// test's real PostgreSQL (the relay's pools and the reminder table) and embedded Kafka. Membership is the
/// TestingHost's in-memory table: these tests are about the grains, the multi-process tests about membership.
/// </summary>
public static class GrainCluster
{
    public static async Task<InProcessTestCluster> StartAsync(TestDatabase db, TestKafka kafka, short silos, TimeSpan sweep)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        var relay = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Outbox:ConnectionString"] = db.ConnectionString,
            ["Outbox:PartitionCount"] = TestDatabase.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Outbox:MaxPoolSize"] = "4",
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Relay:BatchSize"] = "100",
            ["Relay:SweepInterval"] = sweep.ToString("c", CultureInfo.InvariantCulture),
            ["Relay:RetryDelay"] = "00:00:00.100",
            ["Relay:MaxRetryDelay"] = "00:00:01",
            ["Relay:KeeperInterval"] = "00:00:00.500",
        }).Build();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton("reminders", (_, _) => OrleansStorage.CreateDataSource(db.ConnectionString));
            silo.UseAdoNetReminderService(o => o.Configure<IServiceProvider>((r, sp) =>
            {
                r.Invariant = OrleansStorage.Invariant;
                r.DataSource = sp.GetRequiredKeyedService<NpgsqlDataSource>("reminders");
            }));
            silo.Configure<ClusterMembershipOptions>(MembershipDefaults.Apply);
            silo.AddOutboxRelay(relay);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>The partitions active in each silo, by silo name.</summary>
    public static Dictionary<string, IReadOnlyDictionary<int, long>> Active(InProcessTestCluster cluster) =>
        cluster.GetActiveSilos().ToDictionary(s => s.Name, s => s.SiloHost.Services.GetRequiredService<ActivePartitions>().ActiveEpochs);

    /// <summary>Owner recorded in outbox.partitions for each partition.</summary>
    public static async Task<Dictionary<int, (string? Owner, long Epoch)>> OwnersAsync(TestDatabase db)
    {
        await using var command = db.DataSource.CreateCommand("select partition, owner, epoch from outbox.partitions");
        await using var reader = await command.ExecuteReaderAsync();
        var owners = new Dictionary<int, (string?, long)>();
        while (await reader.ReadAsync()) owners[reader.GetInt32(0)] = (reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2));
        return owners;
    }

    /// <summary>Every partition active on exactly one silo, under the epoch and owner the database records.</summary>
    public static async Task<bool> SettledAsync(InProcessTestCluster cluster, TestDatabase db)
    {
        var active = Active(cluster);
        var owners = await OwnersAsync(db);
        return Enumerable.Range(0, TestDatabase.Partitions).All(p =>
        {
            var holders = active.Where(a => a.Value.ContainsKey(p)).ToArray();
            return holders.Length == 1 && owners[p].Owner == holders[0].Key && owners[p].Epoch == holders[0].Value[p];
        });
    }
}
