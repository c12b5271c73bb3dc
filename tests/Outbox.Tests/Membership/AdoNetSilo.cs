using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Outbox.Contracts.Schema;
using Outbox.Silo.Membership;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Membership;

/// <summary>
/// A plain Orleans silo host (real TCP on loopback) whose membership and reminders are the ADO.NET providers on a
/// migrated outbox database: what InProcessTestCluster cannot show, since it substitutes its own in-memory table.
/// </summary>
public sealed class AdoNetSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly NpgsqlDataSource _dataSource;

    private AdoNetSilo(IHost host, NpgsqlDataSource dataSource, string name)
    {
        _host = host;
        _dataSource = dataSource;
        Name = name;
    }

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public string Name { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<AdoNetSilo> StartAsync(string connectionString, string clusterId, string name, ReminderTicks ticks)
    {
        var dataSource = OrleansStorage.CreateDataSource(connectionString);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = name });
        builder.Services.AddSingleton(ticks);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.ConfigureEndpoints(IPAddress.Loopback, LocalEnvironment.FreePort(), LocalEnvironment.FreePort());
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansStorage.Invariant;
                o.DataSource = dataSource;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = OrleansStorage.Invariant;
                o.DataSource = dataSource;
            });
            // Heartbeats every second, so the test sees the I-am-alive column move.
            silo.Configure<ClusterMembershipOptions>(o => o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1));
        });
        var host = builder.Build();
        try
        {
            // A silo that cannot join (a broken membership query) keeps retrying and does not honour the token
            // alone: stop waiting for it, so the test fails instead of hanging.
            using var joining = new CancellationTokenSource(Timeout);
            await host.StartAsync(joining.Token).WaitAsync(Timeout);
        }
        catch
        {
            // Not disposed: a silo stuck joining may block its disposal too; the failed test process ends it.
            await dataSource.DisposeAsync();
            throw;
        }
        return new AdoNetSilo(host, dataSource, name);
    }

    /// <summary>Graceful shutdown: the silo marks itself dead in the membership table before it leaves.</summary>
    public async Task StopAsync()
    {
        // A cancelled stop is an ungraceful one; the wait bounds a silo that cannot record its departure.
        using var stopping = new CancellationTokenSource(Timeout);
        await _host.StopAsync(stopping.Token).WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
        await _dataSource.DisposeAsync();
    }
}
