using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using Npgsql;
using Orleans.Configuration;
using Outbox.Grains.Security;
using Outbox.Silo.Membership;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Commands;

/// <summary>
/// An Orleans cluster client for the operator commands: it finds the silos' gateways in the membership table of
/// the outbox database (the same ADO.NET clustering the silos use), so no address has to be given. Where the cluster
/// runs mutual TLS, the client takes its certificate from the same <c>Cluster:Tls:*</c> settings as a silo (environment
/// variables <c>Cluster__Tls__*</c> or appsettings.json): in a silo's container or pod, the silo's own.
/// </summary>
internal static class ClusterConnection
{
    public static Option<string> ClusterId() => new("--cluster-id")
    {
        Description = "Orleans cluster id of the relay silos (Cluster:ClusterId)",
        DefaultValueFactory = _ => new RelayClusterOptions().ClusterId,
    };

    /// <summary>The settings a silo in this place would read, less its command line: appsettings.json, then the environment.</summary>
    public static IConfiguration Configuration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();

    /// <summary>
    /// A started host whose <see cref="IClusterClient"/> is connected; throws when no gateway answers or
    /// <paramref name="configuration"/>'s <c>Cluster:Tls</c> is invalid (<see cref="OptionsValidationException"/>).
    /// </summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    public static async Task<IHost> ConnectAsync(string connectionString, string clusterId, IConfiguration configuration, CancellationToken cancellationToken)
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
                }))
                .UseOutboxClusterTls(configuration))
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
