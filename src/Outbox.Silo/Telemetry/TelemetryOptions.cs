using System.ComponentModel.DataAnnotations;

namespace Outbox.Silo.Telemetry;

/// <summary>
/// OpenTelemetry export. Section "Telemetry" (its StatusPollInterval, the backlog gauges' poll, belongs to the relay:
/// Outbox.Grains' PartitionGaugeOptions). Export is off unless <see cref="OtlpEndpoint"/> is set; the in-process
/// instruments (and the status page) work either way.
/// </summary>
public sealed class TelemetryOptions : IValidatableObject
{
    public const string Section = "Telemetry";

    /// <summary>OTLP collector address, e.g. http://otel-collector:4317 (grpc) or http://otel-collector:4318 (http/protobuf).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>"grpc" (default, port 4317) or "http/protobuf" (port 4318), as OTEL_EXPORTER_OTLP_PROTOCOL spells them.</summary>
    [RegularExpression("^(grpc|http/protobuf)$")]
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>How often metrics are pushed to the collector.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Share of new traces the relay records (its send spans are roots when the enqueuing code had no trace).
    /// Messages that carry a sampled trace are always recorded: the decision follows the parent.
    /// </summary>
    [Range(0d, 1d)]
    public double TraceSampleRatio { get; set; } = 1d;

    /// <summary>service.name of the exported resource; service.instance.id is the silo's name.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ServiceName { get; set; } = "outbox-relay";

    public bool ExportEnabled => OtlpEndpoint is not null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (OtlpEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https")))
            yield return new ValidationResult($"Telemetry:OtlpEndpoint must be an absolute http(s) address, not '{endpoint}'.",
                [nameof(OtlpEndpoint)]);
    }
}
