using System.Net;
using System.Net.Sockets;
using System.Diagnostics.CodeAnalysis;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using Outbox.Grains.Hosting;
using Outbox.Grains.Security;
using Outbox.Silo.Membership;

namespace Outbox.Silo.Hosting;

/// <summary>
/// The Orleans side of the host: cluster identity and endpoints (or the pod's, under Kubernetes hosting), mutual TLS
/// of the cluster's traffic, membership and reminders in the outbox database, failure detection, and the relay itself (<see cref="OutboxRelaySiloBuilderExtensions.AddOutboxRelay"/>).
/// </summary>
public static class OrleansSilo
{
    public const string MembershipSection = RelayClusterOptions.Section + ":Membership";

    /// <summary>Orleans' KubernetesHostingOptions (MaxAgents, DeleteDefunctSiloPods, ...), with Cluster:KubernetesHosting.</summary>
    public const string KubernetesSection = RelayClusterOptions.Section + ":Kubernetes";

    private const string MembershipPool = "orleans-membership";

    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    public static void Configure(ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        // Endpoints and storage are needed while the silo is being built, before options validation runs:
        // read them here; ValidateOnStart still reports a bad section with a clear message.
        var cluster = configuration.GetSection(RelayClusterOptions.Section).Get<RelayClusterOptions>() ?? new RelayClusterOptions();
        var outbox = configuration.GetSection(OutboxOptions.Section).Get<OutboxOptions>() ?? new OutboxOptions();
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        if (cluster.KubernetesHosting)
        {
            // The pod names the silo and gives its address (POD_NAME, POD_IP); an address configured anyway wins.
            // POD_IP is applied here, not left to the package: Orleans' own default (the host's first IPv4 address)
            // is filled in ahead of the package's and would shadow it in a pod with more than one interface.
            silo.Configure<EndpointOptions>(o =>
            {
                o.SiloPort = cluster.SiloPort;
                o.GatewayPort = cluster.GatewayPort;
                var address = cluster.AdvertisedAddress is { Length: > 0 } configured ? configured
                    : Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable);
                if (address is { Length: > 0 }) o.AdvertisedIPAddress = AdvertisedAddress(address);
            });
            silo.UseKubernetesHosting(options => options.Bind(configuration.GetSection(KubernetesSection)));
        }
        else
        {
            silo.Configure<SiloOptions>(o => o.SiloName = cluster.EffectiveSiloName);
            var advertised = AdvertisedAddress(cluster.AdvertisedAddress);
            silo.ConfigureEndpoints(advertised, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
        }
        silo.UseOutboxClusterTls(configuration);

        // Membership and reminders get their own small pool (migration 012's tables force synchronous commit):
        // never the relay's, which commits asynchronously and may be busy with batches.
        silo.Services.AddKeyedSingleton(MembershipPool, (_, _) => OrleansStorage.CreateDataSource(outbox.ConnectionString));
        silo.UseAdoNetClustering(options => options.Configure<IServiceProvider>((o, sp) =>
        {
            o.Invariant = OrleansStorage.Invariant;
            o.DataSource = sp.GetRequiredKeyedService<NpgsqlDataSource>(MembershipPool);
        }));
        silo.UseAdoNetReminderService(options => options.Configure<IServiceProvider>((o, sp) =>
        {
            o.Invariant = OrleansStorage.Invariant;
            o.DataSource = sp.GetRequiredKeyedService<NpgsqlDataSource>(MembershipPool);
        }));
        silo.Configure<ClusterMembershipOptions>(MembershipDefaults.Apply);
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection(MembershipSection));
        silo.AddOutboxRelay(configuration);
    }

    /// <summary>
    /// Orleans writes an IP address into the membership table. Compose and DNS-based deployments name a silo by
    /// host name, so a name is resolved once, at start-up, to the IPv4 address the other silos connect to.
    /// </summary>
    private static IPAddress AdvertisedAddress(string? configured) =>
        configured is not { Length: > 0 } ? IPAddress.Loopback
        : IPAddress.TryParse(configured, out var address) ? address
        : Dns.GetHostAddresses(configured).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
          ?? throw new InvalidOperationException($"{RelayClusterOptions.Section}:{nameof(RelayClusterOptions.AdvertisedAddress)} '{configured}' does not resolve to an IPv4 address.");
}
