using System.Diagnostics;
using Npgsql;

namespace Outbox.Tools.Bench;

/// <summary>
/// CPU time of what the relay (or a baseline) costs, from the kernel's accounting (/proc/&lt;pid&gt;/stat, user plus
/// system), not from wall time: the processes given (silos, a poller) and the database backends whose
/// <c>application_name</c> is one of the names given (pg_stat_activity), sampled at the start and the end of a window.
/// A backend that exists only at the end counts whole (it was born in the window); one that ends within the window
/// loses its share, and one that opens and closes within it is missed. The relay's pools keep their connections
/// (idle ones live for minutes), so for the relay this misses nothing; PostgreSQL's shared work (WAL writer,
/// checkpointer, autovacuum) belongs to no backend and is not counted.
/// </summary>
internal sealed class CpuMeter(NpgsqlDataSource database, IReadOnlyList<string> applicationNames, Func<IEnumerable<int>> processIds)
{
    /// <summary>
    /// Every database session of a silo: the relay's two pools (Outbox.Grains/Hosting/OutboxDataSources.cs), its NOTIFY
    /// listener (Wake/NotificationListener.cs) and Orleans' membership and reminders (Outbox.Silo/Membership/OrleansStorage.cs).
    /// </summary>
    public static readonly IReadOnlyList<string> RelayApplications = ["outbox-relay", "outbox-status", "outbox-relay-listener", "outbox-membership"];

    /// <summary>Cumulative CPU seconds of every backend and process measured, now.</summary>
    public async Task<CpuSample> SampleAsync(CancellationToken cancellationToken)
    {
        var backends = new Dictionary<int, double>();
        await using (var command = database.CreateCommand(BenchSql.RelayBackends))
        {
            command.Parameters.AddWithValue("names", applicationNames.ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var pid = reader.GetInt32(0);
                if (ProcessStats.CpuSeconds(pid) is { } seconds) backends[pid] = seconds;
            }
        }
        var processes = new Dictionary<int, double>();
        foreach (var pid in processIds())
        {
            if (ProcessStats.CpuSeconds(pid) is { } seconds) processes[pid] = seconds;
        }
        return new CpuSample(Stopwatch.GetTimestamp(), backends, processes);
    }
}

/// <summary>Cumulative CPU seconds per backend and per process at one instant.</summary>
internal sealed record CpuSample(long Timestamp, IReadOnlyDictionary<int, double> Backends, IReadOnlyDictionary<int, double> Processes)
{
    /// <summary>What was used between <paramref name="start"/> and this sample.</summary>
    public CpuUse Since(CpuSample start)
    {
        var seconds = (Timestamp - start.Timestamp) / (double)Stopwatch.Frequency;
        var processes = Processes.ToDictionary(p => p.Key, p => Math.Max(0, p.Value - start.Processes.GetValueOrDefault(p.Key)) / seconds);
        return new CpuUse(seconds, Delta(Backends, start.Backends) / seconds, processes);
    }

    private static double Delta(IReadOnlyDictionary<int, double> end, IReadOnlyDictionary<int, double> start) =>
        end.Sum(e => Math.Max(0, e.Value - start.GetValueOrDefault(e.Key)));
}

/// <summary>
/// CPU used over a window, in CPU seconds per second (1.0 = one core busy): the database backends together, and each
/// process measured.
/// </summary>
internal sealed record CpuUse(double Seconds, double Database, IReadOnlyDictionary<int, double> Processes)
{
    /// <summary>The processes together.</summary>
    public double ProcessTotal => Processes.Values.Sum();

    /// <summary>The busiest process.</summary>
    public double ProcessMax => Processes.Count == 0 ? 0 : Processes.Values.Max();

    /// <summary>Database and processes together.</summary>
    public double Total => Database + ProcessTotal;
}
