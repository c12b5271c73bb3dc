using System.CommandLine;

namespace Outbox.Silo.Commands;

/// <summary>Runs the command line; a parse error (unknown verb, bad or missing flag) exits with <see cref="ExitCodes.Usage"/>.</summary>
internal static class CliInvocation
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, InvocationConfiguration? configuration = null,
        CancellationToken cancellationToken = default)
    {
        var parse = root.Parse(args);
        // The parse error action prints the errors and the help; only its exit code (1) is replaced.
        var code = await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
