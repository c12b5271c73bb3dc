using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Contracts;

/// <summary>
/// One list of limits (<see cref="OutboxLimits"/>), held against both enqueue paths: every message the C# API
/// refuses, outbox.enqueue refuses too (and the reverse), at the limit both accept, and a message too large for
/// the deployment's configured Kafka message size is refused in the writer's transaction.
/// </summary>
public sealed class OutboxLimitsBothSidesTests : IAsyncLifetime
{
    private const string ValidTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    private static OutboxMessage Message(int payloadBytes = 1) => new("orders", "k", new byte[payloadBytes]);

    private static Dictionary<string, string> Headers(int count, int valueBytes, int nameBytes = 8) =>
        Enumerable.Range(0, count).ToDictionary(i => $"h{i:D3}".PadRight(nameBytes, 'n'), _ => new string('v', valueBytes));

    public static TheoryData<string, OutboxMessage> BeyondTheLimits => new()
    {
        { "event type of 100,000 characters", Message() with { EventType = new string('e', 100_000) } },
        { "event type one byte over", Message() with { EventType = new string('e', OutboxLimits.MaxEventTypeBytes + 1) } },
        { "empty event type", Message() with { EventType = "" } },
        { "header value of 2 MB", Message() with { Headers = Headers(1, 2_000_000) } },
        { "header value one byte over", Message() with { Headers = Headers(1, OutboxLimits.MaxHeaderValueBytes + 1) } },
        { "1,000 headers", Message() with { Headers = Headers(1000, 1) } },
        { "one header too many", Message() with { Headers = Headers(OutboxLimits.MaxHeaderCount + 1, 1) } },
        { "header name one byte over", Message() with { Headers = Headers(1, 1, OutboxLimits.MaxHeaderNameBytes + 1) } },
        { "all-zero event id", Message() with { EventId = Guid.Empty } },
        { "key one byte over", new OutboxMessage("orders", new string('k', OutboxLimits.MaxKeyBytes + 1), new byte[1]) },
        { "payload one byte over", Message(OutboxLimits.MaxPayloadBytes + 1) },
        { "topic one character over", new OutboxMessage(new string('t', OutboxLimits.MaxTopicLength + 1), "k", new byte[1]) },
        { "deliver_at DateTimeOffset.MaxValue", Message() with { DeliverAt = DateTimeOffset.MaxValue } },
        { "deliver_at DateTimeOffset.MinValue", Message() with { DeliverAt = DateTimeOffset.MinValue } },
        { "deliver_at past the schedule horizon", Message() with { DeliverAt = DateTimeOffset.UtcNow + OutboxLimits.MaxScheduleAhead + TimeSpan.FromDays(1) } },
    };

    public static TheoryData<string, OutboxMessage> AtTheLimits => new()
    {
        { "event type at the limit", Message() with { EventType = new string('e', OutboxLimits.MaxEventTypeBytes) } },
        { "headers at every limit", Message() with { Headers = Headers(OutboxLimits.MaxHeaderCount, OutboxLimits.MaxHeaderValueBytes / 2) } },
        { "one header value at the limit", Message() with { Headers = Headers(1, OutboxLimits.MaxHeaderValueBytes, OutboxLimits.MaxHeaderNameBytes) } },
        { "key at the limit", new OutboxMessage("orders", new string('k', OutboxLimits.MaxKeyBytes), new byte[1]) },
        { "payload at the limit", Message(OutboxLimits.MaxPayloadBytes) },
        { "deliver_at within the horizon", Message() with { DeliverAt = DateTimeOffset.UtcNow + OutboxLimits.MaxScheduleAhead - TimeSpan.FromDays(1) } },
        { "deliver_at in the past", Message() with { DeliverAt = OutboxLimits.MinDeliverAt + TimeSpan.FromDays(1) } },
    };

    [Theory]
    [MemberData(nameof(BeyondTheLimits))]
    public async Task TheCSharpApiAndTheSqlFunctionBothRefuseAMessageBeyondALimit(string because, OutboxMessage message)
    {
        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            await Assert.ThrowsAsync<OutboxValidationException>(() => tx.EnqueueAsync(message));
        }
        var error = await Assert.ThrowsAsync<PostgresException>(() => SqlEnqueueAsync(message));
        Assert.True(error.SqlState == PostgresErrorCodes.InvalidParameterValue, $"{because}: {error.MessageText}");
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Theory]
    [MemberData(nameof(AtTheLimits))]
    public async Task TheCSharpApiAndTheSqlFunctionBothAcceptAMessageAtTheLimits(string because, OutboxMessage message)
    {
        await Enqueue.CommitAsync(_db, message);
        await SqlEnqueueAsync(message with { EventId = Guid.NewGuid() });
        Assert.True(await _db.ScalarAsync("select count(*) from outbox.messages") == 2, because);
    }

    [Theory]
    [InlineData("'infinity'")]
    [InlineData("'-infinity'")]
    [InlineData("'200000-01-01'")]
    public async Task TheSqlFunctionRefusesANonFiniteOrAbsurdDeliverAt(string deliverAt)
    {
        await using var command = _db.DataSource.CreateCommand(
            $"select outbox.enqueue('orders', 'k', '\\x00'::bytea, deliver_at => {deliverAt}::timestamptz)");
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Contains("deliver_at", error.MessageText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-traceparent")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")]
    public async Task TheSqlFunctionRefusesAMalformedTraceparent(string traceparent)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => SqlEnqueueAsync(Message(), traceparent));
        Assert.Contains("traceparent", error.MessageText, StringComparison.Ordinal);
        await SqlEnqueueAsync(Message(), ValidTraceparent);
    }

    [Fact]
    public async Task AMessageLargerThanTheConfiguredKafkaMessageSizeIsRefusedInTheWritersTransaction()
    {
        await _db.ScalarAsync("update outbox.settings set message_max_bytes = 100000 returning 1");
        var large = Message(200_000);

        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await using var tx = await connection.BeginTransactionAsync();
            var error = await Assert.ThrowsAsync<OutboxValidationException>(() => tx.EnqueueAsync(large));
            Assert.Contains("Kafka message size of 100000 bytes", error.Message, StringComparison.Ordinal);
        }
        await Assert.ThrowsAsync<PostgresException>(() => SqlEnqueueAsync(large));
        // The headers count towards the whole message as well.
        await Assert.ThrowsAsync<PostgresException>(() => SqlEnqueueAsync(Message(95_000) with { Headers = Headers(1, 8000) }));
        await SqlEnqueueAsync(Message(99_000));
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    /// <summary>The same message through outbox.enqueue, as an application in another language writes it.</summary>
    private async Task SqlEnqueueAsync(OutboxMessage message, string? traceparent = null)
    {
        await using var command = _db.DataSource.CreateCommand("""
            select outbox.enqueue(@topic, @key, @payload, headers => @headers::jsonb, deliver_at => @deliver_at,
                                  event_type => @event_type, event_id => @event_id, traceparent => @traceparent)
            """);
        var p = command.Parameters;
        p.AddWithValue("topic", message.Topic);
        p.AddWithValue("key", message.Key);
        p.AddWithValue("payload", message.Payload.ToArray());
        p.Add(new NpgsqlParameter("headers", NpgsqlDbType.Text) { Value = message.Headers is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(message.Headers) });
        p.Add(new NpgsqlParameter("deliver_at", NpgsqlDbType.TimestampTz) { Value = message.DeliverAt is { } at ? at : DBNull.Value });
        p.Add(new NpgsqlParameter("event_type", NpgsqlDbType.Text) { Value = (object?)message.EventType ?? DBNull.Value });
        p.AddWithValue("event_id", message.EventId);
        p.Add(new NpgsqlParameter("traceparent", NpgsqlDbType.Text) { Value = (object?)traceparent ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }
}
