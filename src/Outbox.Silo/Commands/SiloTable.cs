using System.Globalization;
using Npgsql;
using Outbox.Silo.Membership;
using Spectre.Console;

namespace Outbox.Silo.Commands;

/// <summary>The silos part of <c>status</c>: Orleans' membership table with the partitions each silo owns.</summary>
internal static class SiloTable
{
    /// <summary><c>status --silos</c>: the silos alone, as a table or as JSON.</summary>
    public static async Task<int> ShowAsync(CliOutput output, NpgsqlDataSource dataSource, bool json, CancellationToken cancellationToken)
    {
        var silos = await new SiloMembershipReader(dataSource).GetSilosAsync(cancellationToken).ConfigureAwait(false);
        if (json) await output.JsonAsync(silos).ConfigureAwait(false);
        else Render(output.Console, silos);
        return ExitCodes.Ok;
    }

    public static void Render(IAnsiConsole console, IReadOnlyList<SiloMembership> silos)
    {
        if (silos.Count == 0)
        {
            console.MarkupLine("no silo in the Orleans membership table yet");
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("silo", "status", "address", "gateway", "last i-am-alive", "partitions");
        foreach (var silo in silos)
        {
            table.AddRow(
                Markup.Escape(silo.Name),
                silo.Status switch
                {
                    "alive" => "[green]alive[/]",
                    "dead" => "[red]dead[/]",
                    var other => $"[yellow]{Markup.Escape(other)}[/]",
                },
                Markup.Escape($"{silo.Address}:{silo.SiloPort}"),
                silo.GatewayPort > 0 ? silo.GatewayPort.ToString(CultureInfo.InvariantCulture) : "-",
                $"{(now - silo.LastIAmAlive).TotalSeconds:0}s ago",
                $"{silo.Partitions.Count}: {Ranges(silo.Partitions)}");
        }
        console.Write(table);
    }

    /// <summary>"0-3, 7, 9-10": a silo's partitions on one line.</summary>
    private static string Ranges(IReadOnlyList<int> partitions)
    {
        var parts = new List<string>();
        for (var i = 0; i < partitions.Count; i++)
        {
            var start = partitions[i];
            while (i + 1 < partitions.Count && partitions[i + 1] == partitions[i] + 1) i++;
            parts.Add(start == partitions[i]
                ? start.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{start}-{partitions[i]}"));
        }
        return parts.Count == 0 ? "-" : string.Join(", ", parts);
    }
}
