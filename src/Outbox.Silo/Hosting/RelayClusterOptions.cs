using System.ComponentModel.DataAnnotations;

namespace Outbox.Silo.Hosting;

/// <summary>
/// This silo's place in its Orleans cluster. Section "Cluster". Membership lives in the outbox database
/// (Orleans ADO.NET clustering); silos with the same <see cref="ClusterId"/> on one database form one cluster.
/// Failure detection is tuned under "Cluster:Membership" (Orleans' ClusterMembershipOptions, see
/// <see cref="MembershipDefaults"/>).
/// </summary>
public sealed class RelayClusterOptions : IValidatableObject
{
    public const string Section = "Cluster";

    /// <summary>Silos with the same id on one database form a cluster.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ClusterId { get; set; } = "outbox-relay";

    /// <summary>Orleans service id: stable across deployments of the same relay (keys its reminders).</summary>
    [Required(AllowEmptyStrings = false)]
    public string ServiceId { get; set; } = "outbox-relay";

    /// <summary>
    /// Name of this silo in membership, status and as owner of its partitions; defaults to host name and process id
    /// (with <see cref="KubernetesHosting"/>: the pod's name, and it must not be set).
    /// </summary>
    public string? SiloName { get; set; }

    /// <summary>
    /// Address other silos and clients reach this one at: an IP address, or a host name resolved at start-up
    /// (compose's service name). Defaults to the loopback address (with <see cref="KubernetesHosting"/>: the pod's IP).
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>
    /// Runs the silo as a Kubernetes pod (Orleans' Microsoft.Orleans.Hosting.Kubernetes): its name and advertised
    /// address come from the pod (POD_NAME, POD_IP, POD_NAMESPACE from the downward API), its pod is labelled with the
    /// cluster and service ids, and the silos watch the pods so a deleted pod's silo is declared dead at once (and, with
    /// <c>Cluster:Kubernetes:DeleteDefunctSiloPods</c>, the pod of a silo declared dead is deleted). The pod needs a
    /// service account allowed to get, list, watch, patch and delete pods (deploy/kubernetes/rbac.yaml). Tuned under
    /// "Cluster:Kubernetes" (Orleans' KubernetesHostingOptions). Off: the same image runs in compose or on a host.
    /// </summary>
    public bool KubernetesHosting { get; set; }

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Gateway port for cluster clients (CLI drain, applications' OutboxClient).</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The silo name outside Kubernetes: <see cref="SiloName"/>, or host name and process id.</summary>
    public string EffectiveSiloName => SiloName is { Length: > 0 } name ? name : $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KubernetesHosting && SiloName is { Length: > 0 })
            yield return new ValidationResult($"{Section}:{nameof(SiloName)} cannot be set with {Section}:{nameof(KubernetesHosting)}: the silo is named after its pod, " +
                                              "which is how the pod watcher finds the silo of a deleted pod.", [nameof(SiloName)]);
    }
}
