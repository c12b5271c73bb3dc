using Npgsql;

namespace Outbox.Grains.Hosting;

/// <summary>
/// The relay's own two pools, registered by <see cref="OutboxRelaySiloBuilderExtensions.AddOutboxRelay"/> as keyed
/// services, so they never collide with, nor lend connections to, an <see cref="NpgsqlDataSource"/> the application
/// registers for itself. <see cref="Relay"/> reads, publishes and removes rows; <see cref="Status"/> serves
/// everything else (status, readiness, admin calls, drain requests, gauges), so however hard clients hit those
/// they queue on it (and its statement timeout), never on the relay's pool.
/// </summary>
public static class OutboxDataSources
{
    /// <summary>Service key of the relay's bounded pool (<see cref="OutboxOptions.MaxPoolSize"/>). Not for application work.</summary>
    public const string Relay = "outbox-relay";

    /// <summary>Service key of the small pool for status, readiness, admin and drain requests (<see cref="OutboxOptions.StatusPoolSize"/>).</summary>
    public const string Status = "outbox-status";

    private static readonly TimeSpan StatusStatementTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The relay's own small pool: bounded, named, with prepared statements for the hot queries.</summary>
    internal static NpgsqlDataSource CreateRelay(OutboxOptions options)
    {
        // The name labels the pool's metrics (db.client.connection.pool.name) instead of the connection string.
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString) { Name = "outbox-relay" };
        builder.ConnectionStringBuilder.MaxPoolSize = options.MaxPoolSize;
        builder.ConnectionStringBuilder.ApplicationName ??= "outbox-relay";
        builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        // Waiting for a pooled connection is the throttle; give it time rather than failing under load.
        builder.ConnectionStringBuilder.Timeout = 30;
        // The reader's releases and holds need not wait for the WAL flush: lost in a crash, they are lost with the
        // database's incarnation, after which every partition reads itself again. Completions and epoch changes opt
        // back in (Storage/CompletionStatement.cs, Storage/OutboxStore.cs). The relay's statements are prepared once
        // per connection and their generic plans read by the indexes whatever the parameters: planning them anew for
        // each execution (PostgreSQL's choice while it compares) would cost more than running them. A generic plan's
        // cost estimates are large enough to make PostgreSQL compile it with LLVM on every execution (measured: 5 s of
        // CPU for the maintenance statement with nothing to do): no JIT for statements that touch a few rows.
        // A generic plan is kept until the table's statistics change, so one made while outbox.messages held a few pages
        // (a drained outbox, or a new one) outlives the bulk insert that follows until autovacuum gets to the table: it
        // read those pages with sequential or bitmap scans (per row, for the feed's blocked check) and updated by
        // `ctid = any(...)` with a sequential scan. Measured after 1,000,000 rows arrived: the feed more than 120 s
        // instead of 0.15 s, the release of 64,000 schedules more than 120 s instead of 3.9 s, an audit purge 64 s
        // instead of 30 ms. Every relay statement is meant to read by an index, so its plans may not use the others.
        builder.ConnectionStringBuilder.Options =
            "-c synchronous_commit=off -c plan_cache_mode=force_generic_plan -c jit=off -c enable_seqscan=off -c enable_bitmapscan=off";
        return builder.Build();
    }

    internal static NpgsqlDataSource CreateStatus(OutboxOptions options)
    {
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString) { Name = "outbox-status" };
        builder.ConnectionStringBuilder.MaxPoolSize = options.StatusPoolSize;
        builder.ConnectionStringBuilder.ApplicationName = "outbox-status";
        // No JIT: compiling an aggregation over a large backlog costs seconds of CPU, more than running it.
        builder.ConnectionStringBuilder.Options = $"-c statement_timeout={(int)StatusStatementTimeout.TotalMilliseconds} -c jit=off";
        return builder.Build();
    }
}
