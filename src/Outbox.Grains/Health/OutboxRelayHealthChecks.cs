namespace Outbox.Grains.Health;

/// <summary>
/// The relay's health check as <see cref="Hosting.OutboxRelaySiloBuilderExtensions.AddOutboxRelay"/> registers it
/// with the host's <c>AddHealthChecks()</c>: a host maps it as it likes, e.g.
/// <c>app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(OutboxRelayHealthChecks.ReadyTag) })</c>.
/// Its data names each part of readiness: <c>database</c>, <c>kafka</c>, <c>cluster</c>, <c>shuttingDown</c>.
/// </summary>
public static class OutboxRelayHealthChecks
{
    /// <summary>The check's registration name.</summary>
    public const string Name = "outbox-relay";

    /// <summary>The tag of readiness checks: unhealthy while the relay cannot publish or the host is shutting down.</summary>
    public const string ReadyTag = "ready";
}
