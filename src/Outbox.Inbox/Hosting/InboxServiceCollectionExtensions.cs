using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outbox.Inbox.Consuming;
using Outbox.Inbox.Diagnostics;

namespace Outbox.Inbox.Hosting;

/// <summary>Adds an inbox consumer to a generic host (ASP.NET Core or worker service).</summary>
public static class InboxServiceCollectionExtensions
{
    /// <summary>
    /// Registers a hosted consumer that applies the events of <c>Inbox:Topics</c> through <typeparamref name="THandler"/>
    /// (scoped: one instance per transaction), each event's effect exactly once and in order per key, with its options
    /// bound from <paramref name="configuration"/> (for example <c>builder.Configuration.GetSection("Inbox")</c>),
    /// then <paramref name="configure"/>, and validated at start-up. Also registers its health check
    /// ("outbox-inbox-{handler type name}", tags "inbox" and "ready") and its telemetry (meter and activity source
    /// <see cref="InboxTelemetry.Name"/>). One call per handler type; each handler type is its own consumer.
    /// </summary>
    public static IServiceCollection AddOutboxConsumer<THandler>(this IServiceCollection services, IConfiguration configuration,
        Action<InboxOptions>? configure = null)
        where THandler : class, IInboxHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var name = NameOf<THandler>();
        var options = services.AddOptions<InboxOptions>(name).Bind(configuration);
        if (configure is not null) options.Configure(configure);
        return Register<THandler>(services, name);
    }

    /// <summary>As <see cref="AddOutboxConsumer{THandler}(IServiceCollection, IConfiguration, Action{InboxOptions})"/>, with options set in code only.</summary>
    public static IServiceCollection AddOutboxConsumer<THandler>(this IServiceCollection services, Action<InboxOptions> configure)
        where THandler : class, IInboxHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var name = NameOf<THandler>();
        services.AddOptions<InboxOptions>(name).Configure(configure);
        return Register<THandler>(services, name);
    }

    private static string NameOf<THandler>() => typeof(THandler).FullName ?? typeof(THandler).Name;

    private static IServiceCollection Register<THandler>(IServiceCollection services, string name)
        where THandler : class, IInboxHandler
    {
        services.AddOptions<InboxOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InboxOptions>, InboxOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InboxTelemetry>();
        services.TryAddScoped<THandler>();
        if (services.Any(d => d.ServiceType == typeof(ConsumerHealth) && Equals(d.ServiceKey, name))) return services;
        services.AddKeyedSingleton(name, (sp, _) => new ConsumerHealth(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IHostedService>(sp => new InboxConsumer(
            sp.GetRequiredService<IOptionsMonitor<InboxOptions>>().Get(name),
            new HandlerScopes(sp.GetRequiredService<IServiceScopeFactory>(), typeof(THandler)),
            sp.GetRequiredService<InboxTelemetry>(),
            sp.GetRequiredKeyedService<ConsumerHealth>(name),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddHealthChecks().Add(new HealthCheckRegistration("outbox-inbox-" + typeof(THandler).Name,
            sp => new InboxHealthCheck(sp.GetRequiredKeyedService<ConsumerHealth>(name), sp.GetRequiredService<TimeProvider>()),
            failureStatus: null, tags: ["inbox", "ready"]));
        return services;
    }
}
