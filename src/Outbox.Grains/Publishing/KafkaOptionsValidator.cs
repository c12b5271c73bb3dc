using Microsoft.Extensions.Options;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Refuses <c>Kafka:Producer:*</c> overrides that would silently switch off the relay's guarantees, naming the key:
/// a row is removed once Kafka acknowledged it, so the acknowledgement must mean "written to every in-sync
/// replica" (acks=all); per-key order needs idempotence (or at most one request in flight) and the keyed
/// murmur2 partitioner; and the relay awaits a delivery report for every message, success included.
/// Everything else (security.protocol, sasl.*, ssl.*, tuning) passes through.
/// </summary>
internal sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if ((long)options.QueueMaxKbytes * 1024 < 4L * options.MessageMaxBytes)
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.QueueMaxKbytes)}={options.QueueMaxKbytes} must hold at least 4 messages of {KafkaOptions.Section}:{nameof(KafkaOptions.MessageMaxBytes)}={options.MessageMaxBytes}.");
        if (options.CloudEvents == CloudEventsMode.Binary && !Uri.IsWellFormedUriString(options.CloudEventsSource, UriKind.RelativeOrAbsolute))
            failures.Add($"{KafkaOptions.Section}:{nameof(KafkaOptions.CloudEventsSource)}='{options.CloudEventsSource}' must be a non-empty URI-reference (CloudEvents' source), e.g. /orders.");
        foreach (var (key, value) in options.Producer)
        {
            if (Refusal(key.Trim().ToLowerInvariant(), value.Trim().ToLowerInvariant()) is { } why)
                failures.Add($"{KafkaOptions.Section}:Producer:{key}={value} is refused: {why}");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string? Refusal(string key, string value) => key switch
    {
        "acks" or "request.required.acks" when value is not ("all" or "-1") =>
            "rows are removed once Kafka acknowledges them, so anything short of acks=all can delete rows Kafka lost.",
        "enable.idempotence" when value is not "true" =>
            "the idempotent producer keeps each key's order across librdkafka's own retries.",
        "max.in.flight" or "max.in.flight.requests.per.connection" when !int.TryParse(value, out var n) || n is < 1 or > 5 =>
            "more than 5 requests in flight break per-key order on a retry (Kafka's idempotence covers at most 5).",
        "partitioner" when value is not ("murmur2_random" or "murmur2") =>
            "keys must be partitioned with Kafka's murmur2, as the Java client and the relay's own partition hash do.",
        "delivery.report.only.error" when value is not "false" =>
            "the relay waits for a delivery report of every message; without reports on success every batch hangs.",
        "transactional.id" =>
            "the shared producer is not transactional; exactly-once mode configures its own producers.",
        _ => null,
    };
}
