using Microsoft.Extensions.Options;

namespace Outbox.Silo.Hosting;

/// <summary>
/// The admin token guards pause, retry, discard and replay: a short token can be guessed, and the example value
/// shipped in deploy/ is public. No token at all is allowed (the admin endpoints are then disabled).
/// </summary>
public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public const int MinTokenLength = 16;

    /// <summary>Values that appear in this repository's examples.</summary>
    private static readonly string[] ExampleTokens = ["change-me", "changeme"];

    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        if (string.IsNullOrEmpty(options.Token)) return ValidateOptionsResult.Success;
        if (ExampleTokens.Any(example => options.Token.Contains(example, StringComparison.OrdinalIgnoreCase)))
            return ValidateOptionsResult.Fail($"{AdminOptions.Section}:{nameof(AdminOptions.Token)} is the example value; generate one (e.g. openssl rand -hex 24).");
        return options.Token.Length < MinTokenLength
            ? ValidateOptionsResult.Fail($"{AdminOptions.Section}:{nameof(AdminOptions.Token)} must be at least {MinTokenLength} characters (e.g. openssl rand -hex 24).")
            : ValidateOptionsResult.Success;
    }
}
