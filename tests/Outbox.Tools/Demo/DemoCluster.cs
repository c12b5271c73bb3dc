using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Demo;

/// <summary>The demo's silo processes: started, watched, and (with --chaos) one killed and restarted.</summary>
internal sealed class DemoCluster(DemoSettings settings, string connectionString, string bootstrapServers, TextWriter progress) : IAsyncDisposable
{
    private readonly List<(string Name, int Port, SiloProcess Process)> _silos = [];

    public async Task StartAllAsync(CancellationToken cancellationToken)
    {
        // One after another, as the cluster tests do: a joining silo checks its connectivity with every active one,
        // and several joining at once on a small machine can take long enough to be declared dead while joining.
        for (var i = 1; i <= settings.Silos; i++)
        {
            var port = LocalEnvironment.FreePort();
            _silos.Add(($"silo-{i}", port, Start($"silo-{i}", port)));
            await LocalEnvironment.WaitUntilReadyAsync(BaseAddress(port), TimeSpan.FromSeconds(90), cancellationToken).ConfigureAwait(false);
        }
        progress.WriteLine($"demo: {_silos.Count} silo(s) ready; status page: {BaseAddress(_silos[0].Port)}");
    }

    /// <summary>
    /// After <paramref name="delay"/>, SIGKILLs silo-1 and measures how long until none of the partitions it
    /// owned is still registered to it (Orleans declared it dead and the survivors re-activated its partitions
    /// with new epochs); then restarts it.
    /// </summary>
    public async Task<double?> KillAndRestartOneAsync(TimeSpan delay, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        var (name, port, process) = _silos[0];
        process.Kill();
        var killedAt = Stopwatch.GetTimestamp();
        progress.WriteLine($"demo: chaos: killed {name} (SIGKILL)");
        while (await OwnedByAsync(dataSource, name, cancellationToken).ConfigureAwait(false) > 0)
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        var failover = Stopwatch.GetElapsedTime(killedAt).TotalSeconds;
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo: chaos: {name}'s partitions resumed elsewhere after {failover:0.0}s; restarting it"));
        await process.DisposeAsync().ConfigureAwait(false);
        _silos[0] = (name, port, Start(name, port));
        return failover;
    }

    private SiloProcess Start(string name, int port)
    {
        var configuration = new Dictionary<string, string>
        {
            ["Outbox:ConnectionString"] = connectionString,
            ["Outbox:PartitionCount"] = settings.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Cluster:SiloName"] = name,
            // Orleans advertises the ports it binds, so they are picked free here rather than bound as port 0.
            ["Cluster:SiloPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Urls"] = BaseAddress(port).ToString(),
        };
        return SiloProcess.Start(name, configuration, settings.Verbose ? line => progress.WriteLine(line) : null);
    }

    private static async Task<long> OwnedByAsync(NpgsqlDataSource dataSource, string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select count(*) from outbox.partitions where owner = @owner");
        command.Parameters.AddWithValue("owner", name);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static Uri BaseAddress(int port) => new($"http://127.0.0.1:{port}");

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, _, process) in _silos) await process.DisposeAsync().ConfigureAwait(false);
    }
}
