namespace Outbox.Inbox.Admin;

/// <summary>Why an event is parked.</summary>
public enum InboxParkedReason
{
    /// <summary>Its handler kept failing (a poison event); later events of its key wait behind it.</summary>
    Failed,

    /// <summary>It waits behind a failed event of its key, to be applied in order once that one is resolved.</summary>
    Waiting,

    /// <summary>Its sequence was below its key's position when it arrived (Inbox:LateEvents=Park); it blocks nothing.</summary>
    Late,
}

/// <summary>A parked event, as an operator lists it.</summary>
/// <param name="Id">The parked row's id (what <see cref="InboxParkedSelection.Id"/> names).</param>
/// <param name="Topic">The Kafka topic.</param>
/// <param name="Partition">The Kafka partition (the consumer owning it applies a retried event).</param>
/// <param name="Offset">The Kafka offset.</param>
/// <param name="EventId">The event id.</param>
/// <param name="Key">The ordering key, or null for a keyless message.</param>
/// <param name="Sequence">outbox-sequence, when the event had one.</param>
/// <param name="EventType">The event type, when the event had one.</param>
/// <param name="Reason">Why it is parked.</param>
/// <param name="Error">The handler's last error, for a failed event.</param>
/// <param name="Attempts">How many times the handler failed for it.</param>
/// <param name="ParkedAt">When it was parked (or failed again).</param>
/// <param name="RetryRequestedAt">When an operator asked for it to be applied again, until the consumer did.</param>
/// <param name="PayloadBytes">The payload's size.</param>
public sealed record InboxParkedEvent(
    long Id,
    string Topic,
    int Partition,
    long Offset,
    Guid EventId,
    string? Key,
    long? Sequence,
    string? EventType,
    InboxParkedReason Reason,
    string? Error,
    int Attempts,
    DateTimeOffset ParkedAt,
    DateTimeOffset? RetryRequestedAt,
    int PayloadBytes);

/// <summary>
/// Which parked events of one consumer group an operator acts on: one (<see cref="Id"/>), those of a topic and/or a
/// key, of one reason, or all of the group (none of them given).
/// </summary>
public sealed record InboxParkedSelection(string ConsumerGroup, long? Id = null, string? Topic = null, string? Key = null, InboxParkedReason? Reason = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the selection is malformed.</summary>
    public void Validate()
    {
        InboxAdmin.ValidateText(ConsumerGroup, "Consumer group", 255);
        if (Id is <= 0) throw new ArgumentException($"Parked event id must be positive, not {Id}.", nameof(Id));
        if (Topic is not null) InboxAdmin.ValidateText(Topic, "Topic", 249);
        if (Key is not null && (Key.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(Key) > InboxAdmin.MaxKeyBytes))
            throw new ArgumentException($"Key must be 1 to {InboxAdmin.MaxKeyBytes} bytes.", nameof(Key));
        if (Reason is { } reason && !Enum.IsDefined(reason)) throw new ArgumentException($"Unknown reason {reason}.", nameof(Reason));
    }
}

/// <summary>An admin call named a parked event, key or group that has nothing parked.</summary>
public sealed class InboxNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InboxNotFoundException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public InboxNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public InboxNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
