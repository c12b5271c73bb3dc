using Outbox.Silo.Hosting;
using Outbox.Silo.Telemetry;

namespace Outbox.Silo.Http;

/// <summary>
/// The operator's status page (GET /): one self-contained HTML file embedded in the silo, no build step and
/// no external assets, that polls /status and /status/publishing.
/// </summary>
public static class StatusPageEndpoints
{
    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = typeof(StatusPageEndpoints).Assembly.GetManifestResourceStream("Outbox.Silo.Http.StatusPage.index.html")
            ?? throw new InvalidOperationException("The status page resource is missing from the silo assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void MapStatusPage(this WebApplication app)
    {
        app.MapGet("/", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(Page.Value, "text/html; charset=utf-8");
        });
        // This silo's publishing history for the page's plot: per second, messages acknowledged and latency.
        app.MapGet("/status/publishing", (PublishRateSampler sampler, SiloIdentity silo, int? seconds) =>
            Results.Ok(new { silo = silo.Name, since = sampler.StartedAt.ToUnixTimeSeconds(), samples = sampler.Recent(seconds ?? 300) }));
    }
}
