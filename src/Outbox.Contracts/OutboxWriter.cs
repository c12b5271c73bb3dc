using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Outbox.Contracts;

/// <summary>
/// Enqueues messages inside the caller's transaction: they become visible to the relay only if that transaction
/// commits; the relay's change probe finds them a few milliseconds later, outside that transaction (nothing but the
/// INSERT runs in it). A batch is one statement, whatever its size.
/// </summary>
public static class OutboxWriter
{
    private static readonly string EnqueueOneSql = SqlResource.Read(typeof(OutboxWriter).Assembly, "Sql.enqueue_one.sql");
    private static readonly string EnqueueBatchSql = SqlResource.Read(typeof(OutboxWriter).Assembly, "Sql.enqueue_batch.sql");

    /// <summary>Enqueues one message. Throws <see cref="OutboxValidationException"/> before writing anything if it is invalid.</summary>
    public static Task EnqueueAsync(this NpgsqlTransaction transaction, OutboxMessage message, CancellationToken cancellationToken = default) =>
        transaction.EnqueueAsync([message], cancellationToken);

    /// <summary>
    /// Enqueues messages in the given order (which is their publish order within a key). All are validated
    /// first; one invalid message rejects the whole call and nothing is written.
    /// </summary>
    public static async Task EnqueueAsync(this NpgsqlTransaction transaction, IReadOnlyList<OutboxMessage> messages,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(messages);
        if (transaction.Connection is null)
            throw new InvalidOperationException("The transaction is already completed.");
        if (messages.Count == 0) return;
        foreach (var message in messages) OutboxMessageValidator.Validate(message);

        var (traceparent, tracestate) = CurrentTraceContext();
        await using var command = messages.Count == 1
            ? OneCommand(messages[0], traceparent, tracestate)
            : BatchCommand(messages, traceparent, tracestate);
        command.Connection = transaction.Connection;
        command.Transaction = transaction;
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidParameterValue)
        {
            // outbox.validate_message refused a message (e.g. larger than the deployment's Kafka message size).
            throw new OutboxValidationException(e.MessageText, e);
        }
    }

    private static NpgsqlCommand OneCommand(OutboxMessage message, string? traceparent, string? tracestate)
    {
        var command = new NpgsqlCommand(EnqueueOneSql);
        var p = command.Parameters;
        p.AddWithValue("hash", OutboxPartitioner.KeyHash(message.Key));
        p.AddWithValue("event_id", message.EventId);
        p.AddWithValue("topic", message.Topic);
        p.AddWithValue("key", message.Key);
        p.AddWithValue("payload", message.Payload.ToArray());
        p.Add(new NpgsqlParameter("headers", NpgsqlDbType.Text) { Value = Headers(message) ?? (object)DBNull.Value });
        p.Add(new NpgsqlParameter("event_type", NpgsqlDbType.Text) { Value = message.EventType ?? (object)DBNull.Value });
        p.Add(new NpgsqlParameter("deliver_at", NpgsqlDbType.TimestampTz) { Value = message.DeliverAt?.UtcDateTime ?? (object)DBNull.Value });
        p.Add(new NpgsqlParameter("traceparent", NpgsqlDbType.Text) { Value = traceparent ?? (object)DBNull.Value });
        p.Add(new NpgsqlParameter("tracestate", NpgsqlDbType.Text) { Value = tracestate ?? (object)DBNull.Value });
        return command;
    }

    private static NpgsqlCommand BatchCommand(IReadOnlyList<OutboxMessage> messages, string? traceparent, string? tracestate)
    {
        var command = new NpgsqlCommand(EnqueueBatchSql);
        var p = command.Parameters;
        p.Add(Array("hashes", NpgsqlDbType.Integer, messages, m => OutboxPartitioner.KeyHash(m.Key)));
        p.Add(Array("topics", NpgsqlDbType.Text, messages, m => m.Topic));
        p.Add(Array("keys", NpgsqlDbType.Text, messages, m => m.Key));
        p.Add(Array("payloads", NpgsqlDbType.Bytea, messages, m => m.Payload.ToArray()));
        p.Add(Array("headers", NpgsqlDbType.Text, messages, Headers));
        p.Add(Array("event_types", NpgsqlDbType.Text, messages, m => m.EventType));
        p.Add(Array("deliver_ats", NpgsqlDbType.TimestampTz, messages, m => m.DeliverAt?.UtcDateTime));
        p.Add(Array("event_ids", NpgsqlDbType.Uuid, messages, m => m.EventId));
        p.Add(Array("traceparents", NpgsqlDbType.Text, messages, _ => traceparent));
        p.Add(Array("tracestates", NpgsqlDbType.Text, messages, _ => tracestate));
        return command;
    }

    private static string? Headers(OutboxMessage message) =>
        message.Headers is null ? null : System.Text.Json.JsonSerializer.Serialize(message.Headers);

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IReadOnlyList<OutboxMessage> messages,
        Func<OutboxMessage, T> select)
    {
        var values = new T[messages.Count];
        for (var i = 0; i < values.Length; i++) values[i] = select(messages[i]);
        return new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values };
    }

    /// <summary>The W3C trace context of the enqueuing code, so the relay's publish span continues its trace.</summary>
    private static (string? Traceparent, string? Tracestate) CurrentTraceContext()
    {
        var activity = Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C) return (null, null);
        // A tracestate past the W3C limit is dropped, as a tracer would drop it, rather than failing the business write.
        var tracestate = activity.TraceStateString is { Length: <= OutboxLimits.MaxTracestateLength } state ? state : null;
        return (activity.Id, tracestate);
    }
}
