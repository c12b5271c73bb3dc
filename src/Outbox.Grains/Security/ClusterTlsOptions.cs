using System.Security.Cryptography.X509Certificates;

namespace Outbox.Grains.Security;

/// <summary>
/// Mutual TLS on the cluster's own traffic: silo to silo, and cluster clients to the silos' gateway. Section
/// "Cluster:Tls". Off by default; when on, a silo accepts a connection only from a peer whose certificate chains to
/// <see cref="TrustedCaPath"/> or is listed in <see cref="TrustedThumbprints"/>, and shows its own certificate to every
/// peer. Without it anyone who reaches the silo or gateway port can call the partition grains. Host names are not
/// checked: silos reach each other at the IP addresses in the membership table, so the trusted CA (or the pinned
/// certificates) is the cluster's identity and must issue certificates for this cluster alone.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Cluster:Tls";

    /// <summary>Turns mutual TLS on. Every silo and client of a cluster must agree: a TLS peer and a plain one cannot talk.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// This host's certificate: a PEM file (its key in the same file or in <see cref="KeyPath"/>) or a PKCS#12 file
    /// (.pfx/.p12, key inside). Its extended key usages, if any, must include server and client authentication (a silo
    /// is both). Or use <see cref="CertificateSubject"/>.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when the certificate file does not hold it.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 file or of an encrypted PEM key. A secret: never logged.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// This host's certificate from the certificate store instead of a file: the subject name to look for in
    /// <see cref="StoreName"/> at <see cref="StoreLocation"/> (the newest one with a private key is taken).
    /// </summary>
    public string? CertificateSubject { get; set; }

    /// <summary>The store searched for <see cref="CertificateSubject"/>.</summary>
    public StoreName StoreName { get; set; } = StoreName.My;

    /// <summary>The store location searched for <see cref="CertificateSubject"/>.</summary>
    public StoreLocation StoreLocation { get; set; } = StoreLocation.CurrentUser;

    /// <summary>
    /// PEM file of the certificate authorities whose certificates are accepted from peers (the cluster's own CA, not a
    /// public one). A peer's certificate must chain to one of them and be within its validity dates; revocation is not
    /// checked (a private CA publishes no revocation list: rotate the CA to revoke).
    /// </summary>
    public string? TrustedCaPath { get; set; }

    /// <summary>
    /// Thumbprints of peer certificates accepted as they are (pinned), SHA-256 (64 hex digits, as
    /// <c>openssl x509 -noout -fingerprint -sha256</c> prints them; colons allowed) or SHA-1 (40). With
    /// <see cref="TrustedCaPath"/>, a peer is accepted when either accepts it.
    /// </summary>
    public IList<string> TrustedThumbprints { get; } = [];

    /// <summary>How long a TLS handshake may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The configuration key of a property, for messages that name the setting at fault.</summary>
    internal static string Key(string property) => Section + ":" + property;
}
