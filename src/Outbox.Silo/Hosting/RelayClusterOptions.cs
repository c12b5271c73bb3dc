using System.ComponentModel.DataAnnotations;

namespace Outbox.Silo.Hosting;

/// <summary>
/// This silo's place in its Orleans cluster. Section "Cluster". Membership lives in the outbox database
/// (Orleans ADO.NET clustering); silos with the same <see cref="ClusterId"/> on one database form one cluster.
/// Failure detection is tuned under "Cluster:Membership" (Orleans' ClusterMembershipOptions, see
/// <see cref="MembershipDefaults"/>).
/// </summary>
public sealed class RelayClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>Silos with the same id on one database form a cluster.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ClusterId { get; set; } = "outbox-relay";

    /// <summary>Orleans service id: stable across deployments of the same relay (keys its reminders).</summary>
    [Required(AllowEmptyStrings = false)]
    public string ServiceId { get; set; } = "outbox-relay";

    /// <summary>Name of this silo in membership, status and as owner of its partitions; defaults to host name and process id.</summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// Address other silos and clients reach this one at: an IP address, or a host name resolved at start-up
    /// (compose's service name). Defaults to the loopback address.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Gateway port for cluster clients (CLI drain, applications' OutboxClient).</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The effective silo name.</summary>
    public string EffectiveSiloName => SiloName is { Length: > 0 } name ? name : $"{Environment.MachineName}-{Environment.ProcessId}";
}
