using System.Net.Sockets;
using System.Net;
using Npgsql;

namespace Outbox.Tools.Verification;

/// <summary>Helpers the demo, the benchmark and the tests share to stand up a throw-away environment.</summary>
public static class LocalEnvironment
{
    /// <summary>Drops and re-creates database <paramref name="name"/> next to the one <paramref name="connectionString"/> names; returns its connection string.</summary>
    public static async Task<string> RecreateDatabaseAsync(string connectionString, string name, CancellationToken cancellationToken)
    {
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
            var quoted = new NpgsqlCommandBuilder().QuoteIdentifier(name);
            await using var drop = new NpgsqlCommand($"drop database if exists {quoted} with (force)", admin);
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"create database {quoted}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls a silo's readiness endpoint until it answers 200.</summary>
    public static async Task WaitUntilReadyAsync(Uri baseAddress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(3) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Probe timed out; try again.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Silo at {baseAddress} was not ready within {timeout}.");
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }
}
