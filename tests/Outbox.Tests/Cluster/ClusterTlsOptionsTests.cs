using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Outbox.Grains.Security;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Cluster;

/// <summary>
/// A broken Cluster:Tls stops start-up with a message naming the setting, before any connection: a missing certificate
/// or trust, a key that is not the certificate's, a wrong password (which the message never repeats), a certificate
/// expired or not yet valid, and a silo certificate its own trust would refuse (the other silos would refuse it too).
/// What deploy/tls/generate-certs.sh makes is accepted as it is.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ClusterTlsOptionsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public ClusterTlsOptionsTests() => _certificates.Authority("cluster-ca");

    [Fact]
    public void NothingIsRequiredWhileTlsIsOff() => Assert.True(Validate(new ClusterTlsOptions()).Succeeded);

    [Fact]
    public void TlsOnNeedsACertificateAndSomeoneToTrust()
    {
        var failures = Failures(new ClusterTlsOptions { Enabled = true });
        Assert.Contains(failures, f => f.Contains("Cluster:Tls:CertificatePath", StringComparison.Ordinal) && f.Contains("Cluster:Tls:CertificateSubject", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Cluster:Tls:TrustedCaPath", StringComparison.Ordinal) && f.Contains("Cluster:Tls:TrustedThumbprints", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingFileAndAMalformedThumbprintAreNamed()
    {
        var options = new ClusterTlsOptions { Enabled = true, CertificatePath = _certificates.PathOf("absent.crt") };
        options.TrustedThumbprints.Add("not-a-thumbprint");
        var failures = Failures(options);
        Assert.Contains(failures, f => f.Contains("Cluster:Tls:CertificatePath", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'not-a-thumbprint'", StringComparison.Ordinal));
    }

    [Fact]
    public void AKeyThatIsNotTheCertificatesIsRefused()
    {
        var silo = _certificates.Issue("cluster-ca", "silo");
        var other = _certificates.Issue("cluster-ca", "other");
        var options = Options(silo);
        options.KeyPath = other.KeyPath;
        var failure = Assert.Single(Failures(options));
        Assert.Contains("Cluster:Tls:CertificatePath", failure, StringComparison.Ordinal);
        Assert.Contains("cannot be loaded", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongPasswordIsRefusedWithoutRepeatingIt()
    {
        var silo = _certificates.Issue("cluster-ca", "silo");
        var pfx = _certificates.PathOf("silo.pfx");
        using (var certificate = X509Certificate2.CreateFromPemFile(silo.CertificatePath, silo.KeyPath))
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, "right-password"));
        var options = new ClusterTlsOptions { Enabled = true, CertificatePath = pfx, CertificatePassword = "wrong-password", TrustedCaPath = _certificates.PathOf("cluster-ca.crt") };
        var failure = Assert.Single(Failures(options));
        Assert.Contains("Cluster:Tls:CertificatePath", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", failure, StringComparison.Ordinal);

        options.CertificatePassword = "right-password";
        Assert.True(Validate(options).Succeeded, "the PKCS#12 file with its password");
    }

    [Fact]
    public void ACertificateOutsideItsValidityIsRefused()
    {
        var expired = _certificates.Issue("cluster-ca", "expired", startsIn: TimeSpan.FromDays(-2), validFor: TimeSpan.FromDays(1));
        Assert.Contains("valid from", Assert.Single(Failures(Options(expired))), StringComparison.Ordinal);
        var early = _certificates.Issue("cluster-ca", "early", startsIn: TimeSpan.FromDays(1));
        Assert.Contains("valid from", Assert.Single(Failures(Options(early))), StringComparison.Ordinal);
        // A client only shows its certificate: validity is all it checks of its own.
        Assert.False(new ClusterTlsOptionsValidator(silo: false).Validate(null, Options(expired)).Succeeded);
    }

    [Fact]
    public void ASiloCertificateItsOwnTrustWouldRefuseStopsStartUp()
    {
        _certificates.Authority("another-ca");
        var foreign = _certificates.Issue("another-ca", "silo");
        var failure = Assert.Single(Failures(Options(foreign)));
        Assert.Contains("would be refused by silos configured like it", failure, StringComparison.Ordinal);
        Assert.Contains("Cluster:Tls:TrustedCaPath", failure, StringComparison.Ordinal);
        // A client may show a certificate of another CA than the one it trusts the gateways by.
        Assert.True(new ClusterTlsOptionsValidator(silo: false).Validate(null, Options(foreign)).Succeeded);
    }

    [Fact]
    public void APinnedThumbprintIsTrustedWithoutACa()
    {
        _certificates.Authority("self");
        var silo = _certificates.Issue("self", "silo");
        var options = new ClusterTlsOptions { Enabled = true, CertificatePath = silo.CertificatePath, KeyPath = silo.KeyPath };
        // As openssl prints it: colon-separated pairs.
        options.TrustedThumbprints.Add(string.Join(':', silo.Sha256.Chunk(2).Select(pair => new string(pair))).ToLowerInvariant());
        Assert.True(Validate(options).Succeeded, string.Join("; ", Failures(options)));
        options.TrustedThumbprints[0] = Convert.ToHexString(SHA256.HashData([1, 2, 3]));
        Assert.Contains("not in Cluster:Tls:TrustedThumbprints", Assert.Single(Failures(options)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDeploymentScriptsCertificatesAreWhatASiloAndAClientAccept()
    {
        var folder = _certificates.PathOf("deploy");
        await RunAsync(Path.Combine(RepositoryPaths.Root, "deploy", "tls", "generate-certs.sh"), "--out", folder);
        await RunAsync(Path.Combine(RepositoryPaths.Root, "deploy", "tls", "generate-certs.sh"), "--out", folder, "client", "operator");
        ClusterTlsOptions Generated(string name) => new()
        {
            Enabled = true,
            CertificatePath = Path.Combine(folder, name + ".crt"),
            KeyPath = Path.Combine(folder, name + ".key"),
            TrustedCaPath = Path.Combine(folder, "ca.crt"),
        };
        var silo = Validate(Generated("cluster"));
        Assert.True(silo.Succeeded, silo.FailureMessage);
        var client = new ClusterTlsOptionsValidator(silo: false).Validate(null, Generated("operator"));
        Assert.True(client.Succeeded, client.FailureMessage);
    }

    private static async Task RunAsync(string script, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{script} failed: {await errors}");
    }

    private ClusterTlsOptions Options(TestCertificates.Issued certificate) => new()
    {
        Enabled = true,
        CertificatePath = certificate.CertificatePath,
        KeyPath = certificate.KeyPath,
        TrustedCaPath = _certificates.PathOf("cluster-ca.crt"),
    };

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(ClusterTlsOptions options) =>
        new ClusterTlsOptionsValidator(silo: true).Validate(null, options);

    private static List<string> Failures(ClusterTlsOptions options) => Validate(options).Failures?.ToList() ?? [];

    public void Dispose() => _certificates.Dispose();
}
