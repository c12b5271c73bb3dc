using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Outbox.Tests.Infrastructure;

/// <summary>
/// Certificate authorities and the certificates they issue, made by the test with <see cref="CertificateRequest"/> and
/// written as PEM files into a temporary folder (nothing is checked in), which is removed on dispose: what
/// deploy/tls/generate-certs.sh makes with openssl for a real cluster.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly Dictionary<string, X509Certificate2> _authorities = [];

    public string Folder { get; } = Directory.CreateTempSubdirectory("outbox-tls-").FullName;

    /// <summary>A self-signed CA; its certificate is written to <c>{name}.crt</c>.</summary>
    public void Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        // Valid well around now, so it can issue certificates that expired or are not valid yet.
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(30));
        _authorities.Add(name, authority);
        File.WriteAllText(PathOf(name + ".crt"), authority.ExportCertificatePem());
    }

    /// <summary>
    /// A certificate the CA named <paramref name="authority"/> issues for <paramref name="name"/>, written to <c>{name}.crt</c>
    /// and its key to <c>{name}.key</c>; fit for server and client authentication (a silo is both) unless
    /// <paramref name="serverToo"/> is false.
    /// </summary>
    public Issued Issue(string authority, string name, bool serverToo = true, TimeSpan? validFor = null, TimeSpan? startsIn = null)
    {
        var issuer = _authorities[authority];
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var usages = new OidCollection { new Oid(ClientAuthentication) };
        if (serverToo) usages.Add(new Oid(ServerAuthentication));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notBefore = DateTimeOffset.UtcNow + (startsIn ?? TimeSpan.FromMinutes(-5));
        using var certificate = request.Create(issuer, notBefore, notBefore + (validFor ?? TimeSpan.FromDays(1)), RandomNumberGenerator.GetBytes(16));
        var issued = new Issued(PathOf(name + ".crt"), PathOf(name + ".key"), certificate.GetCertHashString(HashAlgorithmName.SHA256));
        File.WriteAllText(issued.CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(issued.KeyPath, key.ExportPkcs8PrivateKeyPem());
        return issued;
    }

    /// <summary>Cluster:Tls settings that show <paramref name="certificate"/> and trust the CA written as <c>{trustedAuthority}.crt</c>.</summary>
    public Dictionary<string, string> Settings(Issued certificate, string trustedAuthority) => new()
    {
        ["Cluster:Tls:Enabled"] = "true",
        ["Cluster:Tls:CertificatePath"] = certificate.CertificatePath,
        ["Cluster:Tls:KeyPath"] = certificate.KeyPath,
        ["Cluster:Tls:TrustedCaPath"] = PathOf(trustedAuthority + ".crt"),
    };

    public string PathOf(string file) => Path.Combine(Folder, file);

    public void Dispose()
    {
        foreach (var authority in _authorities.Values) authority.Dispose();
        Directory.Delete(Folder, recursive: true);
    }

    /// <summary>An issued certificate's PEM files and its SHA-256 thumbprint.</summary>
    public sealed record Issued(string CertificatePath, string KeyPath, string Sha256);
}
