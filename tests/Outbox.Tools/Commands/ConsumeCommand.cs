using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Outbox.Silo.Commands;
using Outbox.Tools.Inbox;

namespace Outbox.Tools.Commands;

/// <summary><c>consume</c>: the ledger's consuming service (an inbox consumer), as the demo and the end-to-end tests run it.</summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var command = new Command("consume", "Run the ledger's inbox consumer (--Inbox:Key=value, --Ledger:DelayMs=N)") { TreatUnmatchedTokensAsErrors = false };
        command.SetAction(async (parse, ct) =>
        {
            using var host = ConsumerHost.Build(parse.UnmatchedTokens.ToArray());
            try
            {
                host.Services.GetService<IStartupValidator>()?.Validate();
            }
            catch (OptionsValidationException e)
            {
                await Console.Error.WriteLineAsync("consume: invalid configuration: " + string.Join("; ", e.Failures)).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            await host.RunAsync(ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
