using Microsoft.Extensions.Options;
using Outbox.Grains.Publishing;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Operations;

/// <summary>A Kafka:Producer:* override that would switch off a guarantee stops the silo at start-up, naming the key.</summary>
public sealed class ProducerOverrideGuardTests : RelayTestBase
{
    [Theory]
    [InlineData("acks", "0")]
    [InlineData("acks", "1")]
    [InlineData("request.required.acks", "1")]
    [InlineData("enable.idempotence", "false")]
    [InlineData("max.in.flight", "10")]
    [InlineData("max.in.flight.requests.per.connection", "6")]
    [InlineData("partitioner", "random")]
    [InlineData("partitioner", "consistent_random")]
    [InlineData("delivery.report.only.error", "true")]
    [InlineData("transactional.id", "relay")]
    public async Task AnOverrideThatWouldBreakAGuaranteeStopsTheSiloNamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string> { [$"Kafka:Producer:{key}"] = value }));
        Assert.Contains($"Kafka:Producer:{key}={value} is refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HarmlessOverridesAndTheSafeValuesPass()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = "kafka:9092",
            Producer = new Dictionary<string, string>
            {
                ["security.protocol"] = "sasl_ssl", ["acks"] = "all", ["enable.idempotence"] = "true",
                ["max.in.flight"] = "5", ["partitioner"] = "murmur2_random", ["batch.size"] = "65536",
            },
        };
        Assert.True(new KafkaOptionsValidator().Validate(null, options).Succeeded);
    }
}
