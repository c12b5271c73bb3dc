using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;
using Outbox.Grains.Diagnostics;

namespace Outbox.Grains.Security;

/// <summary>
/// The cluster's mutual TLS, loaded once from <see cref="ClusterTlsOptions"/>: this host's certificate, the trust a
/// peer's certificate is checked against, and the settings Orleans' TLS middleware runs with.
/// </summary>
internal sealed partial class ClusterCertificates : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2Collection _authorities;
    private readonly HashSet<string> _thumbprints;
    private readonly TimeSpan _handshakeTimeout;
    private readonly ILogger _logger;

    private ClusterCertificates(X509Certificate2 local, X509Certificate2Collection authorities, HashSet<string> thumbprints,
        TimeSpan handshakeTimeout, ILogger logger)
    {
        Local = local;
        _authorities = authorities;
        _thumbprints = thumbprints;
        _handshakeTimeout = handshakeTimeout;
        _logger = logger;
    }

    /// <summary>The certificate this host shows its peers.</summary>
    public X509Certificate2 Local { get; }

    /// <summary>
    /// Loads the certificates, or throws <see cref="InvalidOperationException"/> naming the setting at fault (never the
    /// password). A silo's own certificate must pass its own trust: the other silos, configured alike, would refuse it.
    /// </summary>
    public static ClusterCertificates Load(ClusterTlsOptions options, bool silo, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var local = LoadLocal(options, silo);
        var authorities = new X509Certificate2Collection();
        try
        {
            if (options.TrustedCaPath is { Length: > 0 } caPath)
            {
                var read = Read(ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedCaPath)), caPath, () =>
                {
                    authorities.ImportFromPemFile(caPath);
                    return authorities.Count;
                });
                if (read == 0)
                    throw new InvalidOperationException($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedCaPath))} '{caPath}' holds no PEM certificate.");
            }
            var thumbprints = options.TrustedThumbprints.Select(ClusterTlsOptionsValidator.NormalizeThumbprint).ToHashSet(StringComparer.Ordinal);
            var certificates = new ClusterCertificates(local, authorities, thumbprints, options.HandshakeTimeout, logger);
            if (!local.HasPrivateKey)
                throw new InvalidOperationException($"{ClusterTlsOptions.Section}: the certificate {local.Subject} has no private key (give it in the file or in {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.KeyPath))}).");
            if (certificates.Refusal(local, presented: null, ClientAuthentication, checkTrust: silo) is { } refusal)
                throw new InvalidOperationException($"{ClusterTlsOptions.Section}: this host's certificate {local.Subject} would be refused by silos configured like it: {refusal}.");
            return certificates;
        }
        catch
        {
            local.Dispose();
            foreach (var authority in authorities) authority.Dispose();
            throw;
        }
    }

    /// <summary>TLS for connections this host accepts (a silo's silo and gateway ports): the peer connects, so it must be fit for client authentication.</summary>
    public TlsOptions Inbound() => Tls(ClientAuthentication);

    /// <summary>TLS for connections this host opens (to another silo, or a client to a gateway): the peer serves.</summary>
    public TlsOptions Outbound() => Tls(ServerAuthentication);

    /// <summary>What this host runs with, for the start-up log: its certificate and whom it trusts (no secret).</summary>
    public void LogEnabled()
    {
        var thumbprint = Local.GetCertHashString(HashAlgorithmName.SHA256);
        var notAfter = Local.NotAfter.ToUniversalTime();
        var trust = string.Join("; ", _authorities.Select(a => "CA " + a.Subject)
            .Concat(_thumbprints.Count > 0 ? [$"{_thumbprints.Count} pinned certificate(s)"] : []));
        LogTlsEnabled(_logger, Local.Subject, thumbprint, notAfter, trust);
    }

    private TlsOptions Tls(string peerPurpose) => new()
    {
        LocalCertificate = Local,
        // A peer without a certificate is refused before any Orleans message is read...
        RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        // ...and this host always shows its own when it connects.
        ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        // The whole decision is ours: SslStream's own verdict would fail every peer on the host name (silos are
        // reached at IP addresses) and on a private CA the operating system does not trust.
        RemoteCertificateValidation = (certificate, chain, _) => Accepts(certificate, chain, peerPurpose),
        HandshakeTimeout = _handshakeTimeout,
    };

    private bool Accepts(X509Certificate2 peer, X509Chain? presented, string purpose)
    {
        if (Refusal(peer, presented, purpose, checkTrust: true) is not { } refusal) return true;
        var thumbprint = peer.GetCertHashString(HashAlgorithmName.SHA256);
        LogPeerRefused(_logger, peer.Subject, thumbprint, refusal);
        return false;
    }

    /// <summary>Why <paramref name="certificate"/> is refused, or null when it is accepted.</summary>
    private string? Refusal(X509Certificate2 certificate, X509Chain? presented, string purpose, bool checkTrust)
    {
        // NotBefore and NotAfter are local times.
        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
            return $"it is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u} only";
        if (!checkTrust) return null;
        if (_thumbprints.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256)) || _thumbprints.Contains(certificate.Thumbprint))
            return null;
        if (_authorities.Count == 0) return $"its thumbprint is not in {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedThumbprints))}";
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        // A private CA publishes no revocation list; an online check would fail every handshake.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(purpose));
        // Intermediates the peer sent along help build its chain; they are never trusted by themselves.
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate)
            ? null
            : $"it does not chain to {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedCaPath))} ({string.Join(" ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct())})";
    }

    private static X509Certificate2 LoadLocal(ClusterTlsOptions options, bool silo)
    {
        if (options.CertificateSubject is { Length: > 0 } subject)
            // Invalid ones included: a private CA is not in the system's trust, and validity is checked in Load.
            return Read(ClusterTlsOptions.Key(nameof(ClusterTlsOptions.CertificateSubject)), subject,
                () => CertificateLoader.LoadFromStoreCert(subject, options.StoreName.ToString(), options.StoreLocation, allowInvalid: true, server: silo));
        var path = options.CertificatePath!;
        return Read(ClusterTlsOptions.Key(nameof(ClusterTlsOptions.CertificatePath)), path, () =>
        {
            if (!IsPem(path)) return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
            var keyPath = options.KeyPath is { Length: > 0 } key ? key : null;
            var certificate = options.CertificatePassword is { Length: > 0 } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath)
                : X509Certificate2.CreateFromPemFile(path, keyPath);
            if (!OperatingSystem.IsWindows()) return certificate;
            // Windows' TLS cannot use the ephemeral key a PEM file gives; a PKCS#12 round trip makes it a stored one.
            using (certificate) return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        });
    }

    private static bool IsPem(string path)
    {
        Span<byte> start = stackalloc byte[64];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return System.Text.Encoding.ASCII.GetString(start[..read]).Contains("-----BEGIN", StringComparison.Ordinal);
    }

    /// <summary>Runs a load and names the setting when it fails (a missing file, a wrong password, a key that does not match).</summary>
    private static T Read<T>(string key, string source, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"{key} '{source}' cannot be loaded: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        Local.Dispose();
        foreach (var authority in _authorities) authority.Dispose();
    }

    [LoggerMessage(EventId = OutboxEventId.ClusterTlsEnabled, Level = LogLevel.Information,
        Message = "Cluster TLS on: mutual TLS with certificate {Subject} (SHA-256 {Thumbprint}, valid until {NotAfter:u}); peers accepted: {Trust}")]
    private static partial void LogTlsEnabled(ILogger logger, string subject, string thumbprint, DateTime notAfter, string trust);

    [LoggerMessage(EventId = OutboxEventId.ClusterPeerRefused, Level = LogLevel.Warning,
        Message = "Cluster TLS refused a peer's certificate {Subject} (SHA-256 {Thumbprint}): {Reason}")]
    private static partial void LogPeerRefused(ILogger logger, string subject, string thumbprint, string reason);
}
