using Npgsql;
using NpgsqlTypes;
using Outbox.Inbox.Storage;

namespace Outbox.Inbox.Admin;

/// <summary>
/// The operator's tools for a consuming service's parked events, as the relay's OutboxAdmin is for its parked
/// messages: list, retry (the consumer owning the event's partition applies it again) and discard (moved to
/// inbox.discarded with who and why). Input is validated here (bad input throws <see cref="ArgumentException"/>, an
/// empty match <see cref="InboxNotFoundException"/>) and reaches SQL only as parameters of embedded statements.
/// </summary>
public sealed class InboxAdmin(NpgsqlDataSource dataSource)
{
    /// <summary>Most parked events one list call returns.</summary>
    public const int MaxListLimit = 1000;

    /// <summary>Longest key accepted (the relay's limit).</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Longest operator name or reason recorded with a discard.</summary>
    public const int MaxTextLength = 1000;

    /// <summary>The group's parked events in the order they were parked; of one topic and/or key when given.</summary>
    public async Task<IReadOnlyList<InboxParkedEvent>> ListParkedAsync(string consumerGroup, string? topic, string? key, int limit,
        CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > MaxListLimit) throw new ArgumentException($"Limit must be between 1 and {MaxListLimit}, not {limit}.", nameof(limit));
        new InboxParkedSelection(consumerGroup, Topic: topic, Key: key).Validate();
        await using var command = dataSource.CreateCommand(InboxStore.Sql("list_parked.sql"));
        command.Parameters.AddWithValue("group", consumerGroup);
        command.Parameters.Add(new NpgsqlParameter("topic", NpgsqlDbType.Text) { Value = (object?)topic ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)key ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var parked = new List<InboxParkedEvent>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            parked.Add(new InboxParkedEvent(
                Id: reader.GetInt64(0),
                Topic: reader.GetString(1),
                Partition: reader.GetInt32(2),
                Offset: reader.GetInt64(3),
                EventId: reader.GetGuid(4),
                Key: reader.IsDBNull(5) ? null : reader.GetString(5),
                Sequence: reader.IsDBNull(6) ? null : reader.GetInt64(6),
                EventType: reader.IsDBNull(7) ? null : reader.GetString(7),
                Reason: Enum.Parse<InboxParkedReason>(reader.GetString(8), ignoreCase: true),
                Error: reader.IsDBNull(9) ? null : reader.GetString(9),
                Attempts: reader.GetInt32(10),
                ParkedAt: reader.GetFieldValue<DateTimeOffset>(11),
                RetryRequestedAt: reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
                PayloadBytes: reader.IsDBNull(13) ? 0 : reader.GetInt32(13)));
        }
        return parked;
    }

    /// <summary>Asks the consumer to apply the selected parked events again (in their key's order); returns how many.</summary>
    public async Task<int> RetryParkedAsync(InboxParkedSelection selection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        selection.Validate();
        await using var command = dataSource.CreateCommand(InboxStore.Sql("retry_parked.sql"));
        AddSelection(command, selection);
        return NotEmpty(await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false), selection);
    }

    /// <summary>Moves the selected parked events to inbox.discarded with who and why; returns how many.</summary>
    public async Task<int> DiscardParkedAsync(InboxParkedSelection selection, string discardedBy, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        selection.Validate();
        ValidateText(discardedBy, "Operator", MaxTextLength);
        ValidateText(reason, "Reason", MaxTextLength);
        await using var command = dataSource.CreateCommand(InboxStore.Sql("discard_parked.sql"));
        AddSelection(command, selection);
        command.Parameters.AddWithValue("discarded_by", discardedBy);
        command.Parameters.AddWithValue("discard_reason", reason);
        return NotEmpty(await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false), selection);
    }

    internal static void ValidateText(string? value, string name, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > maxLength)
            throw new ArgumentException($"{name} must be 1 to {maxLength} characters.", name);
        if (value.Any(char.IsControl)) throw new ArgumentException($"{name} must not contain control characters.", name);
    }

    private static void AddSelection(NpgsqlCommand command, InboxParkedSelection selection)
    {
        command.Parameters.AddWithValue("group", selection.ConsumerGroup);
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = (object?)selection.Id ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("topic", NpgsqlDbType.Text) { Value = (object?)selection.Topic ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)selection.Key ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("reason", NpgsqlDbType.Text)
        {
            Value = selection.Reason is { } r ? r.ToString().ToLowerInvariant() : DBNull.Value,
        });
    }

    private static int NotEmpty(int count, InboxParkedSelection selection) => count > 0 ? count
        : throw new InboxNotFoundException($"Nothing parked matches in consumer group '{selection.ConsumerGroup}'" +
            (selection.Id is { } id ? $" with id {id}" : "") + (selection.Topic is { } t ? $" in topic '{t}'" : "") +
            (selection.Key is { } k ? $" for key '{k}'" : "") + (selection.Reason is { } r ? $" ({r})" : "") + " (see `inbox parked list`).");
}
