using System.CommandLine;
using Npgsql;
using Orleans.Configuration;
using Outbox.Silo.Membership;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Commands;

/// <summary>
/// An Orleans cluster client for the operator commands: it finds the silos' gateways in the membership table of
/// the outbox database (the same ADO.NET clustering the silos use), so no address has to be given.
/// </summary>
internal static class ClusterConnection
{
    public static Option<string> ClusterId() => new("--cluster-id")
    {
        Description = "Orleans cluster id of the relay silos (Cluster:ClusterId)",
        DefaultValueFactory = _ => new RelayClusterOptions().ClusterId,
    };

    /// <summary>A started host whose <see cref="IClusterClient"/> is connected; throws when no gateway answers.</summary>
    public static async Task<IHost> ConnectAsync(string connectionString, string clusterId, CancellationToken cancellationToken)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddSingleton(_ => OrleansStorage.CreateDataSource(connectionString, "outbox-cli")))
            .UseOrleansClient(client => client
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = new RelayClusterOptions().ServiceId;
                })
                .UseAdoNetClustering(options => options.Configure<NpgsqlDataSource>((o, membership) =>
                {
                    o.Invariant = OrleansStorage.Invariant;
                    o.DataSource = membership;
                })))
            .ConfigureLogging(logging => logging.ClearProviders())
            .Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
