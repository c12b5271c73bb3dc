using System.CommandLine;
using Outbox.Silo.Commands;
using Outbox.Tools.Kafka;

namespace Outbox.Tools.Commands;

/// <summary><c>dev-kafka</c>: hosts an embedded Kafka (librdkafka mock cluster) until interrupted.</summary>
internal static class DevKafkaCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers") { Description = "Number of brokers", DefaultValueFactory = _ => 3 };
        var topics = new Option<string[]>("--topic") { Description = "Topic to create, as name:partitions (repeatable)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("dev-kafka", "Host an embedded Kafka-protocol mock cluster and print its bootstrap servers") { brokers, topics };
        command.SetAction(async (parse, ct) =>
        {
            using var cluster = new MockKafkaCluster(parse.GetValue(brokers));
            foreach (var spec in parse.GetValue(topics) ?? [])
            {
                var parts = spec.Split(':');
                if (parts.Length != 2 || !int.TryParse(parts[1], out var count) || count < 1)
                {
                    await Console.Error.WriteLineAsync($"dev-kafka: --topic '{spec}' must be name:partitions").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }
                cluster.CreateTopic(parts[0], count);
            }
            Console.WriteLine($"bootstrap.servers={cluster.BootstrapServers}");
            Console.Out.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: the cluster is torn down on the way out.
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
