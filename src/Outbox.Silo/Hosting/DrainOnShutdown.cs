using Outbox.Grains.Relay;

namespace Outbox.Silo.Hosting;

/// <summary>
/// The first step of shutdown: every relay finishes its in-flight batch and stops while HTTP still serves, so
/// during the drain readiness answers 503 (shutting down) instead of the port going dark. ASP.NET Core stops
/// its server before any other hosted service, but after every <c>StoppingAsync</c>. The ownership engine's
/// own stop then hands back partitions that are already idle.
/// </summary>
public sealed class DrainOnShutdown(PartitionDirectory directory) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken) => directory.StopAllAsync().WaitAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
