using System.Text;
using Outbox.Contracts;

namespace Outbox.Tests.Contracts;

/// <summary>The outbox hashes a key exactly as Kafka's default partitioner does (murmur2 of the key bytes).</summary>
[Trait("Category", "Unit")]
public sealed class Murmur2Tests
{
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
}
