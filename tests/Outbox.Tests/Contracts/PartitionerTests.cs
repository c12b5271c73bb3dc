using Outbox.Contracts;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Contracts;

/// <summary>Every writer (C# and SQL here, Kafka's own partitioner in Murmur2Tests) must agree on a key's hash.</summary>
public sealed class PartitionerTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task SqlAndCSharpPutEveryKeyInTheSamePartition()
    {
        var random = new Random(42);
        var keys = Enumerable.Range(0, 2000).Select(i => (i % 3) switch
        {
            0 => $"order-{random.Next()}",
            1 => Guid.NewGuid().ToString(),
            _ => new string(Enumerable.Range(0, random.Next(1, 40)).Select(_ => (char)random.Next(0x20, 0x800)).ToArray()),
        }).ToArray();
        await using var command = _db.DataSource.CreateCommand("select k, outbox.partition_of(k) from unnest(@keys) k");
        command.Parameters.AddWithValue("keys", keys);
        await using var reader = await command.ExecuteReaderAsync();
        var checkedKeys = 0;
        while (await reader.ReadAsync())
        {
            Assert.Equal(OutboxPartitioner.PartitionOf(reader.GetString(0), TestDatabase.Partitions), reader.GetInt32(1));
            checkedKeys++;
        }
        Assert.Equal(keys.Length, checkedKeys);
    }
}
