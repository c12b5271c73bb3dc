using System.CommandLine;
using Outbox.Silo.Commands;

var root = new RootCommand("Outbox relay: publishes PostgreSQL outbox rows to Kafka, in order, at least once")
{
    SiloCommand.Create(),
    MigrateCommand.Create(),
    StatusCommand.Create(),
    DrainCommand.Create(),
    ParkedCommand.Create(),
    PauseCommand.Create(pause: true),
    PauseCommand.Create(pause: false),
    ReplayCommand.Create(),
    InboxCommand.Create(),
};
return await CliInvocation.InvokeAsync(root, args);
