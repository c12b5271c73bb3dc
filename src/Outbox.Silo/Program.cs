using System.CommandLine;
using Outbox.Silo.Commands;
using Outbox.Silo.Kafka;

LibrdkafkaLoader.EnsureLoaded();

var root = new RootCommand("Outbox relay: publishes PostgreSQL outbox rows to Kafka, in order, at least once")
{
    SiloCommand.Create(),
    MigrateCommand.Create(),
    DevKafkaCommand.Create(),
    DemoCommand.Create(),
    StatusCommand.Create(),
    DrainCommand.Create(),
    BenchCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
