using System.CommandLine;
using Microsoft.Extensions.Options;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Commands;

/// <summary><c>silo</c>: runs a relay process. Configuration comes from appsettings.json, environment (Outbox__ConnectionString) and --Section:Key=value arguments.</summary>
internal static class SiloCommand
{
    public static Command Create()
    {
        var command = new Command("silo", "Run a relay silo (configuration: appsettings.json, environment, --Section:Key=value)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var app = SiloHost.Build(parse.UnmatchedTokens.ToArray());
                // Options are validated before the host starts, so a bad setting is one clear line, not the host's
                // "hosting failed to start" log with its stack trace ahead of it.
                app.Services.GetService<IStartupValidator>()?.Validate();
                await app.RunAsync(ct).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync("silo: invalid configuration: " + string.Join("; ", e.Failures)).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync("silo: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
