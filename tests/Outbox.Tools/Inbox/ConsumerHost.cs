using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Outbox.Inbox.Hosting;

namespace Outbox.Tools.Inbox;

/// <summary>The ledger's consuming service as a generic host: configuration from --Inbox:Key=value arguments.</summary>
public static class ConsumerHost
{
    public static IHost Build(string[] args, IReadOnlyDictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, DisableDefaults = false });
        if (configuration is not null) builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddOutboxConsumer<LedgerHandler>(builder.Configuration.GetSection("Inbox"));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder.Build();
    }
}
