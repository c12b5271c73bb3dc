using System.CommandLine;
using Npgsql;
using Outbox.Contracts;

namespace Outbox.Silo.Commands;

/// <summary><c>drain</c>: asks the owning silo to drain a partition (or the partition of a key) now.</summary>
internal static class DrainCommand
{
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
        var command = new Command("drain", "Ask the owner of a partition to drain it now") { db, partition, key };
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
                var client = new OutboxClient(dataSource);
                var drained = parse.GetValue(key) is { } k
                    ? await client.RequestDrainForKeyAsync(k, ct).ConfigureAwait(false)
                    : await RequestAsync(client, parse.GetValue(partition)!.Value, ct).ConfigureAwait(false);
                output.Out.WriteLine($"drain: requested for partition {drained}");
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

    private static async Task<int> RequestAsync(OutboxClient client, int partition, CancellationToken ct)
    {
        await client.RequestDrainAsync(partition, ct).ConfigureAwait(false);
        return partition;
    }
}
