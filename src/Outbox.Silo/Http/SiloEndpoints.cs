using Npgsql;
using Outbox.Contracts;
using Outbox.Grains;
using Outbox.Grains.Relay;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Http;

/// <summary>Health probes, the status view and the admin operations every silo serves.</summary>
public static class SiloEndpoints
{
    public static void MapSiloEndpoints(this WebApplication app)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health/ready", async (ReadinessProbe probe, CancellationToken ct) =>
        {
            var readiness = await probe.CheckAsync(ct).ConfigureAwait(false);
            return Results.Json(readiness, statusCode: readiness.IsReady ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapGet("/status", async (CachedStatus status, ActivePartitions directory, SiloIdentity silo, StatusDatabase database, CancellationToken ct) =>
        {
            var partitions = await status.GetAsync(ct).ConfigureAwait(false);
            var silos = await new SiloMembershipReader(database.DataSource).GetSilosAsync(ct).ConfigureAwait(false);
            return Results.Ok(new { silo = silo.Name, active = directory.ActiveEpochs.Keys.Order().ToArray(), partitions, silos });
        });

        var admin = app.MapGroup("/admin").AddEndpointFilter<AdminTokenFilter>();
        admin.MapAdminEndpoints();
        admin.MapPost("/partitions/{partition:int}/drain", async (int partition, OutboxClient client, ActivePartitions directory, CancellationToken ct) =>
        {
            try
            {
                // A grain call: Orleans routes it to wherever the partition is active.
                var local = directory.IsActive(partition);
                await client.RequestDrainAsync(partition, ct).ConfigureAwait(false);
                return Results.Accepted(value: new { partition, ownedHere = local });
            }
            catch (ArgumentOutOfRangeException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });
    }
}
