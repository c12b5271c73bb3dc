using System.Net;
using Npgsql;
using Orleans.Configuration;
using Outbox.Grains.Hosting;

namespace Outbox.Silo.Hosting;

/// <summary>
/// The Orleans side of the host: cluster identity and endpoints, membership and reminders in the outbox
/// database, failure detection, and the relay itself (<see cref="OutboxRelaySiloBuilderExtensions.AddOutboxRelay"/>).
/// </summary>
public static class OrleansSilo
{
    public const string MembershipSection = RelayClusterOptions.Section + ":Membership";

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
        silo.Configure<SiloOptions>(o => o.SiloName = cluster.EffectiveSiloName);
        var advertised = cluster.AdvertisedAddress is { Length: > 0 } address ? IPAddress.Parse(address) : IPAddress.Loopback;
        silo.ConfigureEndpoints(advertised, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));

        var membership = MembershipConnectionString(outbox.ConnectionString);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = membership;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = membership;
        });
        silo.Configure<ClusterMembershipOptions>(MembershipDefaults.Apply);
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection(MembershipSection));
        silo.AddOutboxRelay();
    }

    /// <summary>
    /// Membership and reminders get their own small pool, committing synchronously whatever the server or the
    /// relay's pool says: a death vote or a reminder lost in a crash would be worse than the few milliseconds.
    /// </summary>
    public static string MembershipConnectionString(string outboxConnectionString) =>
        new NpgsqlConnectionStringBuilder(outboxConnectionString)
        {
            ApplicationName = "outbox-membership",
            MaxPoolSize = 4,
            Options = "-c synchronous_commit=on",
            // The providers read their queries from an unqualified OrleansQuery table: it lives in schema orleans.
            SearchPath = "orleans",
        }.ConnectionString;
}
