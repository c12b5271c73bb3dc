using System.ComponentModel.DataAnnotations;

namespace Outbox.Silo.Hosting;

/// <summary>How partitions are shared between silos. Section "Cluster".</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>"single": this silo owns every partition. "group": silos share them through a Kafka consumer group.</summary>
    [RegularExpression("^(single|group)$", ErrorMessage = "Cluster:Mode must be 'single' or 'group'.")]
    public string Mode { get; set; } = "single";

    /// <summary>Name of this silo in status and logs; defaults to host name and process id.</summary>
    public string? SiloName { get; set; }

    /// <summary>Consumer group the silos join.</summary>
    [Required(AllowEmptyStrings = false)]
    public string GroupId { get; set; } = "outbox-relay";

    /// <summary>Coordination topic with exactly one Kafka partition per outbox partition.</summary>
    [Required(AllowEmptyStrings = false)]
    public string CoordinationTopic { get; set; } = "outbox-relay-coordination";

    /// <summary>Consumer-group session timeout: how long a dead silo keeps its partitions.</summary>
    [Range(3000, 300_000)]
    public int SessionTimeoutMs { get; set; } = 6000;

    /// <summary>Static membership id (group.instance.id): a restarting silo gets its partitions back without a rebalance.</summary>
    public string? InstanceId { get; set; }
}
