using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;
using Outbox.Contracts.Admin;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Health;
using Outbox.Grains.Placement;
using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;
using Outbox.Grains.Retention;
using Outbox.Grains.Storage;
using Outbox.Grains.Wake;

namespace Outbox.Grains.Hosting;

/// <summary>
/// Adds the complete outbox relay to an Orleans silo: the standalone Outbox.Silo is one host of it, a team's own
/// service (with its own silo) is the other, and both get the same safety from this one call.
/// </summary>
public static class OutboxRelaySiloBuilderExtensions
{
    /// <summary>
    /// Registers the relay, configured from <paramref name="configuration"/> (default: the host's) and validated at
    /// start-up: the partition grains, their placement and keeper; the relay's own bounded, keyed
    /// <see cref="NpgsqlDataSource"/>s (<see cref="OutboxDataSources"/>, never the application's); the Kafka producer
    /// built from <c>Kafka:*</c> with the settings its guarantees need (unsafe <c>Kafka:Producer:*</c> overrides are
    /// refused); the wake path; schema migration and the recorded Kafka message size; backlog gauges; audit
    /// retention; drain on shutdown; the exactly-once mode when <c>Relay:Delivery=ExactlyOnce</c>; the readiness
    /// health check (<see cref="OutboxRelayHealthChecks"/>); and <see cref="OutboxClient"/> and
    /// <see cref="OutboxAdmin"/> for the host's own use. Sections: <c>Outbox</c>, <c>Kafka</c>, <c>Relay</c>,
    /// <c>Wake</c>, <c>ExactlyOnce</c>, <c>Retention</c>, <c>Telemetry</c>; code may adjust any of them with
    /// <c>services.Configure&lt;T&gt;</c>. The host provides Orleans clustering and reminder storage.
    /// Idempotent: a second call adds nothing.
    /// </summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    public static ISiloBuilder AddOutboxRelay(this ISiloBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(OutboxRelayMarker))) return builder;
        services.AddSingleton<OutboxRelayMarker>();

        AddOptions(services, configuration ?? builder.Configuration);
        AddDatabase(services);
        AddPublishing(services);
        AddRelay(services);
        AddHostServices(services);
        return builder;
    }

    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    private static void AddOptions(IServiceCollection services, IConfiguration configuration)
    {
        Bind<OutboxOptions>(services, configuration, OutboxOptions.Section);
        Bind<KafkaOptions>(services, configuration, KafkaOptions.Section);
        // The partition count is the deployment's (Outbox:PartitionCount, fixed at the first migration), not a relay tunable.
        Bind<RelayOptions>(services, configuration, RelayOptions.Section)
            .PostConfigure<IOptions<OutboxOptions>>((relay, outbox) => relay.PartitionCount = outbox.Value.PartitionCount);
        Bind<WakeOptions>(services, configuration, WakeOptions.Section);
        Bind<ExactlyOnceOptions>(services, configuration, ExactlyOnceOptions.Section);
        Bind<RetentionOptions>(services, configuration, RetentionOptions.Section);
        Bind<PartitionGaugeOptions>(services, configuration, PartitionGaugeOptions.Section);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ExactlyOnceOptions>, ExactlyOnceOptionsValidator>());
    }

    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    private static OptionsBuilder<T> Bind<T>(IServiceCollection services, IConfiguration configuration, string section) where T : class =>
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();

    private static void AddDatabase(IServiceCollection services)
    {
        services.AddKeyedSingleton(OutboxDataSources.Relay, (sp, _) => OutboxDataSources.CreateRelay(sp.GetRequiredService<IOptions<OutboxOptions>>().Value));
        services.AddKeyedSingleton(OutboxDataSources.Status, (sp, _) => OutboxDataSources.CreateStatus(sp.GetRequiredService<IOptions<OutboxOptions>>().Value));
        services.TryAddSingleton(sp => new OutboxStore(RelayPool(sp)));
        services.TryAddSingleton(sp => new OutboxClient(StatusPool(sp), sp.GetRequiredService<IGrainFactory>()));
        services.TryAddSingleton(sp => new OutboxAdmin(StatusPool(sp)));
    }

    private static void AddPublishing(IServiceCollection services)
    {
        services.TryAddSingleton(sp => RelayProducerFactory.Create(sp.GetRequiredService<IOptions<KafkaOptions>>().Value, ClientId(sp),
            sp.GetRequiredService<ILogger<Confluent.Kafka.IProducer<byte[], byte[]>>>(), sp.GetRequiredService<ILogger<RelayProducer>>()));
        services.TryAddSingleton(sp => HeaderMode.From(sp.GetRequiredService<IOptions<KafkaOptions>>().Value, sp.GetRequiredService<IOptions<RelayOptions>>().Value));
        services.TryAddSingleton<IOutboxPublisher, KafkaPublisher>();
        services.TryAddSingleton(sp => ExactlyOnceHostFactory.Create(sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<IOptions<OutboxOptions>>().Value.PartitionCount, ClientId(sp)));
        services.TryAddSingleton<ExactlyOnceStartup>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ExactlyOnceStartup>());
    }

    private static void AddRelay(IServiceCollection services)
    {
        services.TryAddKeyedSingleton(RelayRetryPipeline.Key, (sp, _) => RelayRetryPipeline.Create(
            sp.GetRequiredService<IOptions<RelayOptions>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RelayRetryPipeline))));
        services.TryAddSingleton<RelayMetrics>();
        // The silo's reader and completer: one connection each of the relay's pool, for every partition of the silo.
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<RelayReader>(sp, RelayPool(sp)));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RelayReader>());
        services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<RelayCompleter>(sp, RelayPool(sp)));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<RelayCompleter>());
        services.TryAddSingleton<ActivePartitions>();
        services.TryAddSingleton<PartitionAssignment>();
        services.TryAddSingleton<IPartitionWaker, LocalPartitionWaker>();
        services.AddPlacementDirector<PartitionPlacement, PartitionPlacementDirector>();
        services.AddSingleton<PartitionKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<PartitionKeeper>());
        // A partition's reminder is a durable backstop, not its clock (grain timers are): a period well under
        // Orleans' one-minute default bounds how late a schedule fires after a full restart.
        services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(10));
    }

    /// <summary>What runs beside the grains in the host: start-up, wake-ups, gauges, retention, shutdown, readiness.</summary>
    private static void AddHostServices(IServiceCollection services)
    {
        services.AddHostedService<SchemaStartup>();
        services.AddHostedService<NotificationListener>();
        services.AddHostedService<PublishedRetention>();
        services.AddSingleton<PartitionGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<PartitionGauges>());
        services.AddHostedService<DrainOnShutdown>();
        // One instance, so its short cache serves every probe (AddCheck<T> alone would build one per probe).
        services.TryAddSingleton<OutboxRelayHealthCheck>();
        services.AddHealthChecks().AddCheck<OutboxRelayHealthCheck>(OutboxRelayHealthChecks.Name, tags: [OutboxRelayHealthChecks.ReadyTag]);
    }

    private static NpgsqlDataSource RelayPool(IServiceProvider services) => services.GetRequiredKeyedService<NpgsqlDataSource>(OutboxDataSources.Relay);

    private static NpgsqlDataSource StatusPool(IServiceProvider services) => services.GetRequiredKeyedService<NpgsqlDataSource>(OutboxDataSources.Status);

    /// <summary>Kafka's client.id of this silo's producers: the silo's name, which is also the owner name of its partitions.</summary>
    private static string ClientId(IServiceProvider services) => "outbox-relay-" + services.GetRequiredService<ILocalSiloDetails>().Name;

    private sealed class OutboxRelayMarker;
}
