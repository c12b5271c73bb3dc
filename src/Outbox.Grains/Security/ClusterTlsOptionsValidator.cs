using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Outbox.Grains.Security;

/// <summary>
/// Checks that mutual TLS, when on, has a certificate of this host and someone to trust, and that they load (a wrong
/// password or a key that does not match the certificate stops start-up here, naming the setting, not at the first
/// connection). Nothing is checked while TLS is off. Messages never carry the password.
/// </summary>
internal sealed class ClusterTlsOptionsValidator(bool silo) : IValidateOptions<ClusterTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled) return ValidateOptionsResult.Success;
        var failures = new List<string>();
        var fromFile = options.CertificatePath is { Length: > 0 };
        var fromStore = options.CertificateSubject is { Length: > 0 };
        if (fromFile == fromStore)
            failures.Add($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.Enabled))} needs this host's certificate from exactly one place: " +
                         $"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.CertificatePath))} (a PEM or PKCS#12 file) or {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.CertificateSubject))} (the certificate store).");
        if (options.KeyPath is { Length: > 0 } && !fromFile)
            failures.Add($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.KeyPath))} is the key of {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.CertificatePath))}, which is not set.");
        foreach (var (property, path) in new[]
                 {
                     (nameof(ClusterTlsOptions.CertificatePath), options.CertificatePath),
                     (nameof(ClusterTlsOptions.KeyPath), options.KeyPath),
                     (nameof(ClusterTlsOptions.TrustedCaPath), options.TrustedCaPath),
                 })
        {
            if (path is { Length: > 0 } && !File.Exists(path)) failures.Add($"{ClusterTlsOptions.Key(property)} '{path}' does not exist.");
        }
        if (options.TrustedCaPath is not { Length: > 0 } && options.TrustedThumbprints.Count == 0)
            failures.Add($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.Enabled))} needs whom to trust: {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedCaPath))} (the cluster's CA, PEM) " +
                         $"and/or {ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedThumbprints))} (SHA-256 or SHA-1 thumbprints of peer certificates).");
        foreach (var thumbprint in options.TrustedThumbprints.Where(t => NormalizeThumbprint(t) is not { Length: 40 or 64 } hex || !IsHex(hex)))
            failures.Add($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.TrustedThumbprints))} '{thumbprint}' is not a SHA-256 (64 hex digits) or SHA-1 (40) thumbprint.");
        if (options.HandshakeTimeout <= TimeSpan.Zero)
            failures.Add($"{ClusterTlsOptions.Key(nameof(ClusterTlsOptions.HandshakeTimeout))} must be positive.");
        if (failures.Count > 0) return ValidateOptionsResult.Fail(failures);

        try
        {
            ClusterCertificates.Load(options, silo, NullLogger.Instance).Dispose();
            return ValidateOptionsResult.Success;
        }
        catch (InvalidOperationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }

    /// <summary>A thumbprint as .NET writes one (X509Certificate.GetCertHashString): upper-case hex, no separators.</summary>
    public static string NormalizeThumbprint(string thumbprint) =>
        thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();

    private static bool IsHex(string value) => value.All(char.IsAsciiHexDigit);
}
