using System.CommandLine;
using Outbox.Silo.Commands;
using Outbox.Tools.Commands;

var root = new RootCommand("Outbox relay tooling: the demo, the benchmark and an embedded Kafka for development")
{
    DemoCommand.Create(),
    BenchCommand.Create(),
    DevKafkaCommand.Create(),
    ConsumeCommand.Create(),
    BenchPollerCommand.Create(),
};
return await CliInvocation.InvokeAsync(root, args);
