using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Metadata;
using Outbox.Grains;

namespace Outbox.Tests.Grains;

/// <summary>
/// The partition grain's wire identity is its aliases, not its CLR names: the interface as Orleans names it in the
/// cluster's manifest, and each method's invokable as messages name it. A later move or rename of the interface then
/// keeps silos and clients of both versions able to call each other (0.1.0, which had no aliases, does not share them).
/// </summary>
[Trait("Category", "Unit")]
public sealed class GrainIdentityTests
{
    [Fact]
    public void ThePartitionGrainIsKnownToOrleansByItsAliasesNotItsClrNames()
    {
        using var host = new HostBuilder().UseOrleansClient(client => client.UseLocalhostClustering()).Build();
        var interfaceType = host.Services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(typeof(IOutboxPartitionGrain));
        Assert.Equal("Outbox.IOutboxPartitionGrain", interfaceType.ToString());

        var methodIds = typeof(IOutboxPartitionGrain).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<CompoundTypeAliasAttribute>())
            .Where(a => a.Components.Contains(typeof(IOutboxPartitionGrain)))
            .Select(a => a.Components[^1])
            .ToHashSet();
        Assert.Contains("DrainAsync", methodIds);
        Assert.Contains("KeepActiveAsync", methodIds);
    }
}
