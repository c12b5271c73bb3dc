using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Placement;
using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Hosting;

/// <summary>Adds the outbox relay to an Orleans silo: a team that already runs Orleans hosts it in its own silos.</summary>
public static class OutboxRelaySiloBuilderExtensions
{
    /// <summary>
    /// Registers the partition grains, their placement and keeper, the relay's options (validated at start-up)
    /// and services. Idempotent: a second call only applies <paramref name="configure"/> again.
    /// The host provides what is deployment-specific: an <see cref="NpgsqlDataSource"/> for the outbox database
    /// (the relay's own bounded pool, which may commit asynchronously), a <see cref="RelayProducer"/> (the
    /// Kafka producer, replaced after a fatal error), and Orleans clustering and reminder storage (see Outbox.Silo); for
    /// <c>Relay:Delivery=ExactlyOnce</c> also an <see cref="ExactlyOnceHost"/> (docs/exactly-once.md).
    /// </summary>
    public static ISiloBuilder AddOutboxRelay(this ISiloBuilder builder, Action<RelayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (configure is not null) services.Configure(configure);
        if (services.Any(d => d.ServiceType == typeof(OutboxRelayMarker))) return builder;
        services.AddSingleton<OutboxRelayMarker>();

        services.AddOptions<RelayOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<RelayRetry>();
        services.TryAddSingleton<RelayMetrics>();
        services.TryAddSingleton(sp => new OutboxStore(sp.GetRequiredService<NpgsqlDataSource>(),
            auditPublished: sp.GetRequiredService<IOptions<RelayOptions>>().Value.AuditRetention > TimeSpan.Zero));
        services.TryAddSingleton(sp => new OwnershipCheck(sp.GetRequiredService<NpgsqlDataSource>()));
        services.TryAddSingleton<IOutboxPublisher, KafkaPublisher>();
        services.TryAddSingleton<ActivePartitions>();
        services.TryAddSingleton<PartitionAssignment>();
        services.AddOptions<ExactlyOnceOptions>().ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ExactlyOnceOptions>, ExactlyOnceOptionsValidator>());
        services.TryAddSingleton<ExactlyOnceStartup>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ExactlyOnceStartup>());
        services.AddPlacementDirector<PartitionPlacement, PartitionPlacementDirector>();
        services.AddSingleton<PartitionKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<PartitionKeeper>());
        // A partition's reminder is a durable backstop, not its clock (grain timers are): a period well under
        // Orleans' one-minute default bounds how late a schedule fires after a full restart.
        services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(10));
        return builder;
    }

    private sealed class OutboxRelayMarker;
}
