using System.Text;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Contracts;

/// <summary>Every writer (C#, SQL, Kafka's own partitioner) must agree on a key's hash.</summary>
public sealed class PartitionerTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Theory]
    // Kafka's own test vectors (org.apache.kafka.common.utils.UtilsTest.testMurmur2).
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2MatchesKafka(string key, int expected) =>
        Assert.Equal(expected, OutboxPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)));

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
