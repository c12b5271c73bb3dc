using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Outbox.Grains;
using Outbox.Grains.Health;
using Outbox.Grains.Hosting;
using Outbox.Grains.Relay;
using Outbox.Silo.Hosting;
using Outbox.Silo.Membership;

namespace Outbox.Silo.Http;

/// <summary>Health probes, the status view and the admin operations every silo serves.</summary>
public static class SiloEndpoints
{
    public static void MapSiloEndpoints(this WebApplication app)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        // The relay's own readiness check (registered by AddOutboxRelay), answered as one flat JSON object:
        // { status, database, kafka, cluster, shuttingDown }, 200 when ready and 503 otherwise.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(OutboxRelayHealthChecks.ReadyTag),
            ResponseWriter = WriteReadinessAsync,
        });
        app.MapGet("/status", async (CachedStatus status, ActivePartitions directory, SiloIdentity silo, CancellationToken ct) =>
        {
            var view = await status.GetAsync(ct).ConfigureAwait(false);
            return Results.Ok(new { silo = silo.Name, active = directory.ActiveEpochs.Keys.Order().ToArray(), partitions = view.Partitions, silos = view.Silos });
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

    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        var body = new Dictionary<string, object> { ["status"] = report.Status.ToString() };
        foreach (var entry in report.Entries.Values)
        {
            foreach (var (key, value) in entry.Data) body[key] = value;
        }
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
