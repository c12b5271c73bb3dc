using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Hosting;

/// <summary>The outbox database and the relay's own connection pools. Section "Outbox".</summary>
public sealed class OutboxOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Outbox";

    /// <summary>Npgsql connection string of the database that holds the outbox schema.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ConnectionString { get; set; } = "";

    /// <summary>Partitions per deployment; fixed at the first migration (keys hash into them).</summary>
    [Range(1, 4096)]
    public int PartitionCount { get; set; } = 64;

    /// <summary>
    /// Upper bound of the relay's own connections per silo (its keyed data source, never the application's). Kept small on purpose: the business owns the
    /// database; the relay throttles on this pool instead of competing with it.
    /// </summary>
    [Range(2, 200)]
    public int MaxPoolSize { get; set; } = 8;

    /// <summary>Connections for status, readiness, admin, drain requests and gauges: a pool of their own, so they never take the relay's.</summary>
    [Range(1, 20)]
    public int StatusPoolSize { get; set; } = 2;

    /// <summary>Apply missing migrations at start-up (convenient in development; DBAs may prefer `outbox.sh migrate` or the SQL files).</summary>
    public bool MigrateOnStart { get; set; } = true;
}
