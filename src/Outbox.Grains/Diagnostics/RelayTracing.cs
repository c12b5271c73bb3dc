using System.Diagnostics;
using System.Globalization;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Diagnostics;

/// <summary>
/// The relay's spans (ActivitySource "Outbox.Relay"): one "send" span per published message, a child of the
/// trace context the application had when it enqueued the row (W3C traceparent stored in the row), so the
/// trace runs application -> relay -> consumer. Attributes follow OpenTelemetry's messaging conventions.
/// </summary>
public static class RelayTracing
{
    /// <summary>The ActivitySource name to subscribe to (e.g. <c>tracing.AddSource(RelayTracing.SourceName)</c>).</summary>
    public const string SourceName = "Outbox.Relay";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts the send span of <paramref name="row"/>, or returns null when nobody listens (or the sampler
    /// dropped it): then the caller forwards the row's stored context unchanged and pays nothing.
    /// </summary>
    internal static Activity? StartSend(OutboxRow row, int partition)
    {
        if (!Source.HasListeners()) return null;
        // The relay loop carries no trace of its own: a row without stored context starts a new root, never a
        // child of whatever happens to be ambient on this thread.
        var ambient = Activity.Current;
        Activity.Current = null;
        try
        {
            _ = ActivityContext.TryParse(row.Traceparent, row.Tracestate, isRemote: true, out var parent);
            var activity = Source.StartActivity($"send {row.Topic}", ActivityKind.Producer, parent);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("messaging.system", "kafka");
                activity.SetTag("messaging.operation.type", "send");
                activity.SetTag("messaging.operation.name", "send");
                activity.SetTag("messaging.destination.name", row.Topic);
                activity.SetTag("messaging.kafka.message.key", row.Key);
                activity.SetTag("messaging.message.id", row.EventId.ToString());
                activity.SetTag("messaging.message.body.size", row.Payload.Length);
                activity.SetTag("outbox.partition", partition);
                activity.SetTag("outbox.sequence", row.Id);
            }
            return activity;
        }
        finally
        {
            Activity.Current = ambient;
        }
    }

    /// <summary>The traceparent header to publish: the send span's when there is one, else the row's own.</summary>
    internal static string? Traceparent(Activity? send, OutboxRow row) => send is null ? row.Traceparent : send.Id;

    /// <summary>The tracestate header to publish, from the same source as <see cref="Traceparent"/>.</summary>
    internal static string? Tracestate(Activity? send, OutboxRow row) => send is null ? row.Tracestate : send.TraceStateString;

    /// <summary>Ends the send span of an acknowledged message (the span covers the wait for the acknowledgement).</summary>
    internal static void Acknowledged(Activity send, int kafkaPartition, long offset)
    {
        if (send.IsAllDataRequested)
        {
            send.SetTag("messaging.destination.partition.id", kafkaPartition.ToString(CultureInfo.InvariantCulture));
            send.SetTag("messaging.kafka.offset", offset);
        }
        send.Stop();
    }

    /// <summary>Ends the send span of a message Kafka refused or failed to take.</summary>
    internal static void Failed(Activity send, PublishOutcome outcome)
    {
        // error.type mirrors the publish-failures metric: "permanent" parks the key, "transient" is retried.
        send.SetTag("error.type", outcome.Status == PublishStatus.PermanentFailure ? "permanent" : "transient");
        send.SetStatus(ActivityStatusCode.Error, outcome.Error);
        send.Stop();
    }
}
