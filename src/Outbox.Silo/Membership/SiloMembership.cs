namespace Outbox.Silo.Membership;

/// <summary>One silo incarnation as Orleans' membership table records it, with the outbox partitions it owns.</summary>
/// <param name="ClusterId">The Orleans cluster (ClusterOptions.ClusterId) the silo belongs to.</param>
/// <param name="Name">The silo's name (SiloOptions.SiloName), also the owner name of its partitions.</param>
/// <param name="Address">The IP address the silo advertises to the cluster.</param>
/// <param name="SiloPort">Silo-to-silo port.</param>
/// <param name="GatewayPort">Client gateway port; 0 when the silo serves no clients.</param>
/// <param name="HostName">The machine (or pod) the silo runs on.</param>
/// <param name="Status">joining, alive, shutting down, stopping or dead (created and none only briefly).</param>
/// <param name="StartedAt">When this incarnation of the silo started.</param>
/// <param name="LastIAmAlive">When the silo last wrote its heartbeat to the table.</param>
/// <param name="Partitions">Partitions whose owner is this silo (on its newest incarnation only).</param>
internal sealed record SiloMembership(
    string ClusterId,
    string Name,
    string Address,
    int SiloPort,
    int GatewayPort,
    string HostName,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset LastIAmAlive,
    IReadOnlyList<int> Partitions);
