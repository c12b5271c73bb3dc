using Orleans.Configuration;

namespace Outbox.Silo.Hosting;

/// <summary>
/// The relay's failure detection, applied before "Cluster:Membership" configuration (which overrides any of
/// them). Orleans' defaults suit large clusters of stateful grains; a relay wants a dead silo's partitions back
/// within seconds. Measured on a loaded 2-core machine (docs/benchmarks.md): a SIGKILLed silo's partitions
/// resume in 1-3 s instead of 12-16 s, a SIGSTOPped silo is declared dead in about 8 s instead of about 60 s,
/// and a full benchmark declares no silo dead.
/// </summary>
public static class MembershipDefaults
{
    public static void Apply(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // A probe unanswered for 1 s counts as missed (Orleans: 5 s); two in a row make a suspicion (Orleans: 3).
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 2;
        // Orleans stretches a probe's timeout up to MaxProbeTimeout while the prober itself looks unhealthy, and
        // suppresses votes while the connection carried any message within MaxProbeTimeout x NumMissedProbesLimit.
        // At 4 x ProbeTimeout (its default) a frozen silo would be declared dead only after ~8-10 s; 3 s keeps
        // that window at 6 s, still three times a probe's timeout for a loaded machine's hiccups.
        options.MaxProbeTimeout = TimeSpan.FromSeconds(3);
        options.NumVotesForDeathDeclaration = 2;
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        // The table is the fallback view when gossip is lost: refresh and publish liveness every 5 s (Orleans: 60/30 s).
        options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
    }
}
