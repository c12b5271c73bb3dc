using System.Diagnostics;
using System.Globalization;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (initdb into a temporary folder, its own port), so a test can stop and
/// restart the database without disturbing every other test that shares the machine's server.
/// </summary>
public sealed class PrivatePostgresServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outbox-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private int _port = LocalEnvironment.FreePort();

    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Timeout=5";

    public async Task InitializeAsync()
    {
        await AsPostgresAsync("mkdir", "-p", _directory);
        await AsPostgresAsync(Binary("initdb"), "-D", _directory, "-A", "trust", "-U", "postgres", "--no-sync");
        await StartAsync();
    }

    public Task StartAsync() => AsPostgresAsync(Binary("pg_ctl"), "-D", _directory, "-w", "-l", Path.Combine(_directory, "server.log"),
        "-o", $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    public Task StopAsync() => AsPostgresAsync(Binary("pg_ctl"), "-D", _directory, "-w", "-m", "fast", "stop");

    /// <summary>
    /// Kills the server as a crash would (immediate shutdown: no checkpoint, no flush of what is in shared memory). The
    /// next start recovers from the WAL written so far; transactions that committed without waiting for their flush
    /// (synchronous_commit off) may be gone.
    /// </summary>
    public Task CrashAsync() => AsPostgresAsync(Binary("pg_ctl"), "-D", _directory, "-w", "-m", "immediate", "stop");

    /// <summary>
    /// A synchronous standby of this server (a base backup that streams its WAL, started on a port of its own): from now
    /// on a commit returns only once the standby has it.
    /// </summary>
    public async Task<PrivatePostgresServer> StartSynchronousStandbyAsync()
    {
        var standby = new PrivatePostgresServer();
        await AsPostgresAsync(Binary("pg_basebackup"), "-h", "127.0.0.1", "-p", _port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
            "-D", standby._directory, "-R", "-X", "stream", "--no-sync");
        // The copy carries the primary's socket lock file (sockets live in the data directory here), which would stop the
        // standby from starting on the primary's port later.
        foreach (var lockFile in Directory.GetFiles(standby._directory, ".s.PGSQL.*.lock")) File.Delete(lockFile);
        await standby.StartAsync();
        await AsPostgresAsync(Binary("psql"), "-h", "127.0.0.1", "-p", _port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-qAt",
            "-c", "alter system set synchronous_standby_names = '*'", "-c", "select pg_reload_conf()");
        return standby;
    }

    /// <summary>
    /// Promotes this standby and moves it to <paramref name="failed"/>'s port, where clients find it without a change of
    /// configuration (as a virtual IP or a DNS name would move in production).
    /// </summary>
    public async Task PromoteInPlaceOfAsync(PrivatePostgresServer failed)
    {
        await AsPostgresAsync(Binary("pg_ctl"), "-D", _directory, "-w", "promote");
        await StopAsync();
        _port = failed._port;
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        Directory.Delete(_directory, recursive: true);
    }

    private static string Binary(string name) =>
        Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin", name)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"PostgreSQL's {name} was not found under /usr/lib/postgresql.");

    /// <summary>PostgreSQL refuses to run as root; as root the commands run as the postgres user.</summary>
    private static async Task AsPostgresAsync(string program, params string[] arguments)
    {
        var asRoot = Environment.UserName == "root";
        var info = new ProcessStartInfo(asRoot ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asRoot)
        {
            foreach (var a in new[] { "-u", "postgres", "--", program }) info.ArgumentList.Add(a);
        }
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {await output}{await error}");
    }
}
