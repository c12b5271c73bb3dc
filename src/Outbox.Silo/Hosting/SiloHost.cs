using System.Diagnostics.CodeAnalysis;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Contracts.Admin;
using Outbox.Contracts;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;
using Outbox.Grains.Retention;
using Outbox.Grains;
using Outbox.Silo.Http;
using Outbox.Silo.Kafka;
using Outbox.Silo.Telemetry;

namespace Outbox.Silo.Hosting;

/// <summary>Composes a silo: configuration and its validation, the Orleans silo with the relay, HTTP.</summary>
public static class SiloHost
{
    /// <summary>Builds a silo from command-line style configuration (<c>--Section:Key=value</c>) and optional overrides.</summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        AddOptions(builder.Services, builder.Configuration);
        AddServices(builder.Services);
        // Registered before the silo so that it starts first: migrations create the membership tables the silo joins through.
        builder.Services.AddHostedService<SchemaStartup>();
        builder.UseOrleans(silo => OrleansSilo.Configure(silo, builder.Configuration));
        builder.Services.AddHostedService<NotificationListener>();
        builder.Services.AddHostedService<PublishedRetention>();
        builder.Services.AddHostedService<DrainOnShutdown>();
        builder.Services.AddSiloTelemetry(builder.Configuration);
        var app = builder.Build();
        app.MapSiloEndpoints();
        app.MapStatusPage();
        app.MapSiloMetrics();
        return app;
    }

    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    private static void AddOptions(IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection(KafkaOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.Section))
            .PostConfigure<IOptions<OutboxOptions>>((relay, outbox) => relay.PartitionCount = outbox.Value.PartitionCount);
        services.AddOptions<RelayClusterOptions>().Bind(configuration.GetSection(RelayClusterOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ExactlyOnceOptions>().Bind(configuration.GetSection(ExactlyOnceOptions.Section));
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
    }

    private static void AddServices(IServiceCollection services)
    {
        services.AddSingleton(sp => new SiloIdentity(sp.GetRequiredService<IOptions<RelayClusterOptions>>().Value.EffectiveSiloName));
        services.AddSingleton(sp => CreateDataSource(sp.GetRequiredService<IOptions<OutboxOptions>>().Value));
        services.AddSingleton(sp => RelayProducerFactory.Create(
            sp.GetRequiredService<IOptions<KafkaOptions>>(), sp.GetRequiredService<SiloIdentity>(),
            sp.GetRequiredService<ILogger<IProducer<byte[], byte[]>>>(), sp.GetRequiredService<ILogger<RelayProducer>>()));
        services.AddSingleton(sp => ExactlyOnceHostFactory.Create(sp.GetRequiredService<IOptions<KafkaOptions>>().Value,
            sp.GetRequiredService<IOptions<OutboxOptions>>().Value, sp.GetRequiredService<SiloIdentity>()));
        services.AddSingleton(sp => new StatusDatabase(sp.GetRequiredService<IOptions<OutboxOptions>>().Value));
        services.AddSingleton(sp => new OutboxClient(sp.GetRequiredService<StatusDatabase>().DataSource, sp.GetRequiredService<IGrainFactory>()));
        services.AddSingleton<CachedStatus>();
        services.AddSingleton(sp => new OutboxAdmin(sp.GetRequiredService<StatusDatabase>().DataSource));
        services.AddSingleton<ReadinessProbe>();
    }

    /// <summary>The relay's own small pool: bounded, named, with prepared statements for the hot queries.</summary>
    public static NpgsqlDataSource CreateDataSource(OutboxOptions options)
    {
        // The name labels the pool's metrics (db.client.connection.pool.name) instead of the connection string.
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString) { Name = "outbox-relay" };
        builder.ConnectionStringBuilder.MaxPoolSize = options.MaxPoolSize;
        builder.ConnectionStringBuilder.ApplicationName ??= "outbox-relay";
        builder.ConnectionStringBuilder.MaxAutoPrepare = 16;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        // Waiting for a pooled connection is the throttle; give it time rather than failing under load.
        builder.ConnectionStringBuilder.Timeout = 30;
        // Completing a batch need not wait for the WAL flush: if the database crashes before it is durable the
        // rows come back and are re-published (a duplicate, never a loss). Epoch changes opt back in.
        builder.ConnectionStringBuilder.Options = "-c synchronous_commit=off";
        return builder.Build();
    }
}
