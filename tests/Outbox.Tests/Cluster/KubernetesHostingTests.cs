using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Outbox.Silo.Hosting;

namespace Outbox.Tests.Cluster;

/// <summary>
/// One image for compose and Kubernetes: with Cluster:KubernetesHosting the silo takes its name and advertised address
/// from the pod (the downward API's POD_NAME, POD_IP, POD_NAMESPACE, as deploy/kubernetes/silo.yaml sets them), which
/// is how Orleans' pod watcher matches pods to silos; without it the same variables are ignored. The silos are built,
/// not started: starting needs a Kubernetes API server.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KubernetesHostingTests
{
    /// <summary>Process-wide, set by one test at a time (the tests of a class run one after another); nothing else reads them.</summary>
    private static readonly Dictionary<string, string?> Pod = new()
    {
        ["POD_NAME"] = "outbox-relay-2",
        ["POD_NAMESPACE"] = "outbox-relay",
        ["POD_IP"] = "127.0.0.42",
    };

    [Fact]
    public async Task UnderKubernetesHostingTheSiloIsNamedAndAdvertisedAfterItsPod()
    {
        using var pod = new PodEnvironment();
        await using var app = SiloHost.Build([], Settings(("Cluster:KubernetesHosting", "true")));
        var silo = app.Services.GetRequiredService<ILocalSiloDetails>();
        Assert.Equal("outbox-relay-2", silo.Name);
        Assert.Equal(IPAddress.Parse("127.0.0.42"), silo.SiloAddress.Endpoint.Address);
        Assert.Equal(11111, silo.SiloAddress.Endpoint.Port);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), app.Services.GetRequiredService<IOptions<EndpointOptions>>().Value.SiloListeningEndpoint);
        Assert.Equal("outbox-relay-2", app.Services.GetRequiredService<SiloIdentity>().Name);
    }

    [Fact]
    public async Task WithoutItThePodEnvironmentIsIgnored()
    {
        using var pod = new PodEnvironment();
        await using var app = SiloHost.Build([], Settings(("Cluster:SiloName", "silo-1")));
        var silo = app.Services.GetRequiredService<ILocalSiloDetails>();
        Assert.Equal("silo-1", silo.Name);
        Assert.Equal(IPAddress.Loopback, silo.SiloAddress.Endpoint.Address);
    }

    [Fact]
    public async Task ASiloNameConfiguredUnderKubernetesHostingIsRefused()
    {
        using var pod = new PodEnvironment();
        await using var app = SiloHost.Build([], Settings(("Cluster:KubernetesHosting", "true"), ("Cluster:SiloName", "silo-1")));
        var refused = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Cluster:SiloName cannot be set with Cluster:KubernetesHosting", refused.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Outbox:ConnectionString"] = "Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox",
            ["Kafka:BootstrapServers"] = "127.0.0.1:9092",
        };
        foreach (var (key, value) in settings) all[key] = value;
        return all;
    }

    private sealed class PodEnvironment : IDisposable
    {
        public PodEnvironment()
        {
            foreach (var (name, value) in Pod) Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose()
        {
            foreach (var name in Pod.Keys) Environment.SetEnvironmentVariable(name, null);
        }
    }
}
