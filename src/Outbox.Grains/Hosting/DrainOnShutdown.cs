using Microsoft.Extensions.Hosting;

namespace Outbox.Grains.Hosting;

/// <summary>
/// The first step of shutdown: the Orleans silo stops gracefully (it leaves membership, so placement stops
/// sending partitions here, and deactivates every partition grain, each finishing its in-flight batch) while
/// the host's HTTP still serves, so during the drain readiness answers 503 (shutting down) instead of the port
/// going dark. ASP.NET Core stops its server before any other hosted service, but after every
/// <c>StoppingAsync</c>; the silo's own hosted service then finds the silo already stopped.
/// </summary>
internal sealed class DrainOnShutdown(Orleans.Runtime.Silo silo) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
