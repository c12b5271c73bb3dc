using Microsoft.Extensions.Options;
using Npgsql;

namespace Outbox.Grains.Hosting;

/// <summary>Checks what attributes cannot: that the connection string parses.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return string.IsNullOrEmpty(parsed.Host)
                ? ValidateOptionsResult.Fail("Outbox:ConnectionString names no Host.")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"Outbox:ConnectionString does not parse: {e.Message}");
        }
    }
}
