using System.Globalization;
using Outbox.Contracts;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Infrastructure;

/// <summary>Writes test events the way an application does: inside its own transaction.</summary>
public static class Enqueue
{
    /// <summary>An event for <paramref name="key"/> carrying <paramref name="version"/> in the header the verifier checks order by.</summary>
    public static OutboxMessage Event(string topic, string key, long version, int payloadBytes = 64) =>
        new(topic, key, new byte[payloadBytes])
        {
            EventType = "test",
            Headers = new Dictionary<string, string> { [DeliveryVerifier.VersionHeader] = version.ToString(CultureInfo.InvariantCulture) },
        };

    /// <summary>Commits the messages in one transaction and returns their event ids.</summary>
    public static async Task<Guid[]> CommitAsync(TestDatabase database, params OutboxMessage[] messages)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await tx.EnqueueAsync(messages);
        await tx.CommitAsync();
        return messages.Select(m => m.EventId).ToArray();
    }

    /// <summary>
    /// Commits one event of its own on <paramref name="topic"/> as soon as the database takes it (a server that just
    /// came back may first fail the pool's old connections), and returns its id. Each attempt is a new event, so one
    /// whose commit outcome was lost cannot count as a duplicate.
    /// </summary>
    public static async Task<Guid> CommitWhenAcceptedAsync(TestDatabase database, string topic, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return (await CommitAsync(database, Event(topic, $"marker-{attempt}", 1)))[0];
            }
            catch (Npgsql.NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
