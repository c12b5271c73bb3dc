using Outbox.Contracts;

namespace Outbox.Tests.Infrastructure;

/// <summary>Fills the outbox with versioned events for many keys, in a few large transactions.</summary>
public static class Preload
{
    public static async Task<Guid[]> EventsAsync(TestDatabase database, string topic, int keys, int versionsPerKey, string keyPrefix = "key",
        int firstVersion = 1)
    {
        var ids = new List<Guid>(keys * versionsPerKey);
        for (var version = firstVersion; version < firstVersion + versionsPerKey; version++)
        {
            var messages = Enumerable.Range(0, keys).Select(k => Enqueue.Event(topic, $"{keyPrefix}-{k}", version)).ToArray();
            ids.AddRange(await Enqueue.CommitAsync(database, messages));
        }
        return ids.ToArray();
    }
}
