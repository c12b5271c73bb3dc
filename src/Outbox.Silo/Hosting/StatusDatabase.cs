using Npgsql;

namespace Outbox.Silo.Hosting;

/// <summary>
/// A second, small pool for everything that is not the relay: GET /status, readiness, admin calls, gauges, drain
/// requests. However hard clients hit those endpoints they queue on this pool (and its statement timeout), never
/// on the relay's, so reads and completions keep their connections.
/// </summary>
public sealed class StatusDatabase : IAsyncDisposable
{
    private static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(5);

    public StatusDatabase(OutboxOptions options)
    {
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = options.StatusPoolSize;
        builder.ConnectionStringBuilder.ApplicationName = "outbox-status";
        builder.ConnectionStringBuilder.Options = $"-c statement_timeout={(int)StatementTimeout.TotalMilliseconds}";
        DataSource = builder.Build();
    }

    public NpgsqlDataSource DataSource { get; }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
