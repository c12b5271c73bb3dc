using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Outbox.Silo.Http;
using Outbox.Silo.Telemetry;

namespace Outbox.Silo.Hosting;

/// <summary>
/// Composes the standalone silo: a host of the relay (<see cref="OrleansSilo"/> adds it with
/// <c>AddOutboxRelay</c>, which binds and validates its own sections) plus what a host adds: its cluster
/// membership, HTTP (health, status, admin), telemetry exporters.
/// </summary>
public static class SiloHost
{
    /// <summary>Builds a silo from command-line style configuration (<c>--Section:Key=value</c>) and optional overrides.</summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
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
        builder.Services.AddOptions<RelayClusterOptions>().Bind(builder.Configuration.GetSection(RelayClusterOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AdminOptions>().Bind(builder.Configuration.GetSection(AdminOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        // Orleans' own name for this silo: the configured one, or the pod's under Kubernetes hosting.
        builder.Services.AddSingleton(sp => new SiloIdentity(sp.GetRequiredService<ILocalSiloDetails>().Name));
        builder.Services.AddSingleton<CachedStatus>();
        builder.UseOrleans(silo => OrleansSilo.Configure(silo, builder.Configuration));
        builder.Services.AddSiloTelemetry(builder.Configuration);
        var app = builder.Build();
        app.MapSiloEndpoints();
        app.MapStatusPage();
        app.MapSiloMetrics();
        return app;
    }
}
