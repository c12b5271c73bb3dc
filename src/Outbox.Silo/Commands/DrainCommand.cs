using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains;

namespace Outbox.Silo.Commands;

/// <summary>
/// <c>drain</c>: asks the partition's grain to drain now (or the grain of the partition of a key), through an
/// Orleans cluster client, wherever the partition lives. When no silo gateway answers, the request goes through
/// the database instead (outbox.request_drain(), which the silo owning the partition turns into that call).
/// </summary>
internal static class DrainCommand
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var db = CliDefaults.Database();
        var partition = new Option<int?>("--partition") { Description = "Partition to drain" };
        partition.Validators.Add(r =>
        {
            // Only a number that parsed: anything else is already reported as not a number.
            if (r.Tokens is [{ } token] && int.TryParse(token.Value, System.Globalization.CultureInfo.InvariantCulture, out var value) && value < 0)
                r.AddError("--partition must be 0 or more.");
        });
        var key = new Option<string?>("--key") { Description = "Drain the partition of this ordering key" };
        var clusterId = ClusterConnection.ClusterId();
        var command = new Command("drain", "Ask the owner of a partition to drain it now") { db, partition, key, clusterId };
        command.Validators.Add(r =>
        {
            if ((r.GetResult(partition) is null) == (r.GetResult(key) is null)) r.AddError("Give exactly one of --partition and --key.");
        });
        command.SetAction(async (parse, ct) =>
        {
            var output = CliOutput.For(parse);
            try
            {
                await using var dataSource = NpgsqlDataSource.Create(parse.GetValue(db)!);
                using var cluster = await TryConnectAsync(parse.GetValue(db)!, parse.GetValue(clusterId)!, output, ct).ConfigureAwait(false);
                var client = new OutboxClient(dataSource, cluster?.Services.GetRequiredService<IClusterClient>());
                var drained = parse.GetValue(key) is { } k
                    ? await client.RequestDrainForKeyAsync(k, ct).ConfigureAwait(false)
                    : await RequestAsync(client, parse.GetValue(partition)!.Value, ct).ConfigureAwait(false);
                output.Out.WriteLine($"drain: requested for partition {drained}" + (cluster is null ? " (through the database)" : ""));
                if (cluster is not null) await cluster.StopAsync(ct).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (ArgumentOutOfRangeException e)
            {
                await output.Error.WriteLineAsync("drain: " + e.Message.Split(Environment.NewLine)[0]).ConfigureAwait(false);
                return ExitCodes.NotFound;
            }
            catch (NpgsqlException e)
            {
                await output.Error.WriteLineAsync("drain: database unavailable: " + e.Message).ConfigureAwait(false);
                return ExitCodes.DatabaseUnavailable;
            }
        });
        return command;
    }

    private static async Task<IHost?> TryConnectAsync(string connectionString, string clusterId, CliOutput output, CancellationToken ct)
    {
        // An operator's command must not hang on a cluster that is down or unreachable: past the deadline the
        // request goes through the database, which any silo owning the partition turns into the same grain call.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            return await ClusterConnection.ConnectAsync(connectionString, clusterId, ClusterConnection.Configuration(), deadline.Token).ConfigureAwait(false);
        }
        catch (OptionsValidationException e)
        {
            // A broken Cluster:Tls would fail the same way every time: say so, and still deliver the request.
            await output.Error.WriteLineAsync($"drain: cannot connect to the cluster: {string.Join("; ", e.Failures)}; asking through the database").ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is OrleansException or NpgsqlException or TimeoutException or InvalidOperationException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            await output.Error.WriteLineAsync($"drain: no silo gateway answered ({e.GetType().Name}); asking through the database").ConfigureAwait(false);
            return null;
        }
    }

    private static async Task<int> RequestAsync(OutboxClient client, int partition, CancellationToken ct)
    {
        await client.RequestDrainAsync(partition, ct).ConfigureAwait(false);
        return partition;
    }
}
