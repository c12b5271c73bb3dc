using Npgsql;

namespace Outbox.Silo.Membership;

/// <summary>
/// The connection Orleans' ADO.NET clustering and reminder providers use for the tables of migration 012
/// (Outbox.Contracts' <c>Schema/Migrations/012_orleans.sql</c>): same database as the outbox, its own small pool.
/// </summary>
/// <remarks>
/// The providers read their statements with an unqualified <c>SELECT ... FROM OrleansQuery</c>, and ours live in the
/// schema <c>orleans</c>, so the pool's search path is that schema. It is a pool of its own, not the relay's: the
/// relay's connections commit asynchronously, and membership must neither wait behind relay batches for a
/// connection nor commit asynchronously (the tables' triggers force synchronous commit in any case).
/// </remarks>
public static class OrleansStorage
{
    /// <summary>The ADO.NET invariant name to give the providers (<c>options.Invariant</c>).</summary>
    public const string Invariant = "Npgsql";

    /// <summary>The schema holding OrleansQuery, membership and reminders.</summary>
    public const string Schema = "orleans";

    // Membership heartbeats, probes' table reads and reminder range reads are few and short; a small bound keeps a
    // misbehaving silo from taking connections the relay needs.
    private const int MaxPoolSize = 4;

    /// <summary>
    /// A data source for <c>AdoNetClusteringSiloOptions.DataSource</c>, <c>AdoNetClusteringClientOptions.DataSource</c>
    /// and <c>AdoNetReminderTableOptions.DataSource</c>, built from the outbox's connection string.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString, string applicationName = "outbox-membership")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.SearchPath = Schema;
        builder.ConnectionStringBuilder.MaxPoolSize = MaxPoolSize;
        builder.ConnectionStringBuilder.ApplicationName = applicationName;
        return builder.Build();
    }
}
