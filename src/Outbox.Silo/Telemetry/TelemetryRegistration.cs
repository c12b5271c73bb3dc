using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Outbox.Grains.Diagnostics;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Telemetry;

/// <summary>
/// Wires the silo's telemetry: the publish-rate history (always, it is cheap and feeds the status page; the
/// backlog gauges come with the relay), metrics on a Prometheus scrape endpoint (always: <c>/metrics</c>), and OpenTelemetry
/// export of metrics and traces over OTLP when an endpoint is set. Metrics are the relay's, Npgsql's (connection
/// pool) and Orleans' own; traces are the relay's send spans and Npgsql's database spans.
/// </summary>
public static class TelemetryRegistration
{
    /// <summary>The meter Orleans' runtime instruments live in (membership ring, activations, messaging, reminders).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Where every silo serves its metrics in Prometheus' text format.</summary>
    public const string ScrapePath = "/metrics";

    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    public static void AddSiloTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(TelemetryOptions.Section);
        services.AddOptions<TelemetryOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PublishRateSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<PublishRateSampler>());

        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r
                .AddService(options.ServiceName, autoGenerateServiceInstanceId: false)
                .AddDetector(sp => new SiloResourceDetector(sp.GetRequiredService<SiloIdentity>())))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(RelayMetrics.MeterName, OrleansMeter)
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (options.ExportEnabled)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        Configure(exporter, options, "v1/metrics");
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.ExportInterval.TotalMilliseconds;
                    });
                }
            });
        // Spans only leave the process over OTLP: without a collector no tracer listens, and the relay skips
        // building them altogether.
        if (!options.ExportEnabled) return;
        telemetry.WithTracing(tracing => tracing
            .AddSource(RelayTracing.SourceName)
            .AddNpgsql()
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.TraceSampleRatio)))
            .AddOtlpExporter(exporter => Configure(exporter, options, "v1/traces")));
    }

    /// <summary>Serves the metrics at <see cref="ScrapePath"/> for Prometheus to scrape (no admin token: like the health probes).</summary>
    public static void MapSiloMetrics(this WebApplication app) => app.MapPrometheusScrapingEndpoint(ScrapePath);

    private static void Configure(OtlpExporterOptions exporter, TelemetryOptions options, string httpSignalPath)
    {
        var endpoint = options.OtlpEndpoint!;
        if (options.OtlpProtocol == "http/protobuf")
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            // An endpoint set in code is used verbatim for http/protobuf (only the environment variable gets the
            // signal path appended), so append it here: configuration names the collector, not one signal's URL.
            exporter.Endpoint = new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/" + httpSignalPath);
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = endpoint;
        }
    }

    /// <summary>service.instance.id = the silo's name, so each silo's series stay apart.</summary>
    private sealed class SiloResourceDetector(SiloIdentity silo) : IResourceDetector
    {
        public Resource Detect() => new([new KeyValuePair<string, object>("service.instance.id", silo.Name)]);
    }
}
