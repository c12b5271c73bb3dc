using System.Globalization;
using Npgsql;
using Outbox.Grains.Relay;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// The silos of one benchmark database: N child processes (<see cref="SiloProcess"/>), each with its own name
/// (<c>Cluster:SiloName</c>) and ports, started one after another (a joining silo checks its connectivity with every
/// active one; several joining at once on a small machine can be declared dead while joining).
/// </summary>
public sealed class BenchSilos : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly List<SiloProcess> _processes = [];

    private BenchSilos(bool stageTimestamps) => StageTimestamps = stageTimestamps;

    /// <summary>Whether the silos add the <c>outbox-stages</c> header (Relay:StageTimestamps).</summary>
    public bool StageTimestamps { get; }

    public IReadOnlyList<SiloProcess> Processes => _processes;

    public IEnumerable<int> ProcessIds => _processes.Where(p => !p.HasExited).Select(p => p.ProcessId);

    public bool AnyExited => _processes.Any(p => p.HasExited);

    /// <summary>Starts <paramref name="count"/> silos on <paramref name="connectionString"/> and waits until each is ready.</summary>
    public static async Task<BenchSilos> StartAsync(BenchSettings settings, string connectionString, int partitions, int count, DeliveryMode mode,
        bool stageTimestamps, string bootstrapServers, TextWriter progress, CancellationToken cancellationToken)
    {
        var silos = new BenchSilos(stageTimestamps);
        try
        {
            for (var i = 1; i <= count; i++)
            {
                var name = count == 1 ? "bench-silo" : $"bench-silo-{i}";
                var port = LocalEnvironment.FreePort();
                var configuration = new Dictionary<string, string>
                {
                    ["Outbox:ConnectionString"] = connectionString,
                    ["Outbox:PartitionCount"] = partitions.ToString(CultureInfo.InvariantCulture),
                    ["Outbox:MaxPoolSize"] = settings.PoolSize.ToString(CultureInfo.InvariantCulture),
                    ["Relay:BatchSize"] = settings.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["Relay:Delivery"] = mode.ToString(),
                    ["Relay:StageTimestamps"] = stageTimestamps ? "true" : "false",
                    ["Kafka:BootstrapServers"] = bootstrapServers,
                    ["Cluster:SiloName"] = name,
                    // Orleans advertises the ports it binds, so they are picked free here rather than bound as port 0.
                    ["Cluster:SiloPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
                    ["Cluster:GatewayPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
                    ["Urls"] = $"http://127.0.0.1:{port}",
                    ["Logging:LogLevel:Default"] = "Warning",
                };
                foreach (var (key, value) in settings.SiloConfiguration) configuration[key] = value;
                silos._processes.Add(SiloProcess.Start(name, configuration, settings.Verbose ? progress.WriteLine : null));
                await LocalEnvironment.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}"), ReadyTimeout, cancellationToken).ConfigureAwait(false);
            }
            return silos;
        }
        catch
        {
            await silos.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits until every partition is owned by one of these silos and no ownership changed for
    /// <paramref name="quiet"/>: the keepers have spread the partitions and the hand-overs of start-up are done.
    /// </summary>
    public async Task WaitUntilSettledAsync(NpgsqlDataSource database, TimeSpan quiet, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var names = _processes.Select(p => p.Name).ToArray();
        var deadline = DateTime.UtcNow + timeout;
        (long Unowned, long Epochs)? last = null;
        var since = DateTime.UtcNow;
        while (true)
        {
            await using var command = database.CreateCommand(BenchSql.PartitionOwnership);
            command.Parameters.AddWithValue("owners", names);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var now = (Unowned: reader.GetInt64(0), Epochs: reader.GetInt64(1));
            if (now != last) (last, since) = (now, DateTime.UtcNow);
            else if (now.Unowned == 0 && DateTime.UtcNow - since >= quiet) return;
            if (AnyExited) throw new InvalidOperationException("A silo exited while the partitions were being placed.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The partitions did not settle within {timeout} ({now.Unowned} not owned by these silos).");
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Stopped all at once: one at a time, each stop would hand its partitions to the others first.
        await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
        _processes.Clear();
    }
}
