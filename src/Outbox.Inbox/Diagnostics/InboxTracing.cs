using System.Diagnostics;
using System.Globalization;
using Outbox.Inbox.Consuming;

namespace Outbox.Inbox.Diagnostics;

/// <summary>
/// One span per event handled ("process {topic}", kind Consumer), whose parent is the producer's span carried in
/// the traceparent header (the relay's send span, itself continuing the enqueuing transaction's trace): a trace
/// reads from the business write that enqueued the event to the handler that applied it.
/// </summary>
internal static class InboxTracing
{
    public static Activity? StartProcess(InboxEvent e, string group)
    {
        var source = InboxTelemetry.Source;
        if (!source.HasListeners()) return null;
        var (traceparent, tracestate) = EventHeaders.TraceContext(e);
        ActivityContext.TryParse(traceparent, tracestate, isRemote: true, out var parent);
        var activity = source.StartActivity($"process {e.Topic}", ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", e.Topic);
            activity.SetTag("messaging.destination.partition.id", e.Partition.ToString(CultureInfo.InvariantCulture));
            activity.SetTag("messaging.consumer.group.name", group);
            activity.SetTag("messaging.kafka.offset", e.Offset);
            activity.SetTag("messaging.kafka.message.key", e.Key);
            activity.SetTag("messaging.message.id", e.EventId.ToString());
            if (e.Sequence is { } sequence) activity.SetTag("outbox.sequence", sequence);
            if (e.EventType is { } type) activity.SetTag("outbox.event_type", type);
        }
        return activity;
    }
}
