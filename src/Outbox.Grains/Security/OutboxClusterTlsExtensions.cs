using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Outbox.Grains.Security;

/// <summary>
/// Mutual TLS for the cluster's own traffic, from <see cref="ClusterTlsOptions"/> (section <c>Cluster:Tls</c>), on
/// Orleans' TLS middleware (Microsoft.Orleans.Connections.Security). Like clustering, it is the host's to choose, so it
/// is a call of its own beside <c>AddOutboxRelay</c>; with <c>Cluster:Tls:Enabled</c> false (the default) it adds nothing
/// to the connections.
/// </summary>
public static class OutboxClusterTlsExtensions
{
    /// <summary>
    /// Secures the silo's silo-to-silo and gateway ports and its connections to other silos with mutual TLS when
    /// <c>Cluster:Tls:Enabled</c>: a peer or cluster client without a certificate the options trust is refused before
    /// any grain call is read. Configured from <paramref name="configuration"/> (default: the host's), validated at
    /// start-up. Idempotent.
    /// </summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    public static ISiloBuilder UseOutboxClusterTls(this ISiloBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!AddCertificates(builder.Services, configuration ?? builder.Configuration, silo: true)) return builder;
        builder.Services.AddOptions<SiloConnectionOptions>().Configure<IServiceProvider>((connections, services) =>
        {
            if (Certificates(services) is not { } certificates) return;
            var inbound = certificates.Inbound();
            var outbound = certificates.Outbound();
            connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(inbound));
            connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(inbound));
            connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(outbound));
        });
        return builder;
    }

    /// <summary>
    /// Connects a cluster client (one that calls the partition grains through a gateway, such as an
    /// <see cref="OutboxClient"/> outside the silo) with mutual TLS when <c>Cluster:Tls:Enabled</c>, showing its own
    /// certificate and accepting only gateways the options trust. Configured from <paramref name="configuration"/>
    /// (default: the client builder's), validated at start-up. Idempotent.
    /// </summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    public static IClientBuilder UseOutboxClusterTls(this IClientBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!AddCertificates(builder.Services, configuration ?? builder.Configuration, silo: false)) return builder;
        builder.Services.AddOptions<ClientConnectionOptions>().Configure<IServiceProvider>((connections, services) =>
        {
            if (Certificates(services) is not { } certificates) return;
            var outbound = certificates.Outbound();
            connections.ConfigureConnection(connection => connection.UseClientTls(outbound));
        });
        return builder;
    }

    /// <summary>Binds and validates the options and registers the certificates (loaded only when TLS is on); false when already done.</summary>
    [RequiresUnreferencedCode("Options binding and validation use reflection.")]
    [RequiresDynamicCode("Options binding uses reflection.")]
    private static bool AddCertificates(IServiceCollection services, IConfiguration configuration, bool silo)
    {
        if (services.Any(d => d.ServiceType == typeof(ClusterCertificates))) return false;
        services.AddOptions<ClusterTlsOptions>().Bind(configuration.GetSection(ClusterTlsOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterTlsOptions>>(new ClusterTlsOptionsValidator(silo)));
        services.AddSingleton(sp =>
        {
            var certificates = ClusterCertificates.Load(sp.GetRequiredService<IOptions<ClusterTlsOptions>>().Value, silo,
                sp.GetRequiredService<ILogger<ClusterCertificates>>());
            certificates.LogEnabled();
            return certificates;
        });
        return true;
    }

    private static ClusterCertificates? Certificates(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ClusterTlsOptions>>().Value.Enabled ? services.GetRequiredService<ClusterCertificates>() : null;
}
