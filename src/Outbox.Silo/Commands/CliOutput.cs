using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Outbox.Silo.Commands;

/// <summary>
/// Where a command writes: the invocation's output and error writers (the console, or a test's buffers), with a
/// Spectre console over the output for tables and JSON for scripts.
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private CliOutput(ParseResult parse)
    {
        Out = parse.InvocationConfiguration.Output;
        Error = parse.InvocationConfiguration.Error;
        Console = ReferenceEquals(Out, System.Console.Out)
            ? AnsiConsole.Console
            : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>For human-readable tables.</summary>
    public IAnsiConsole Console { get; }

    public static CliOutput For(ParseResult parse) => new(parse);

    public Task JsonAsync<T>(T value) => Out.WriteLineAsync(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Writes "<paramref name="verb"/>: <paramref name="message"/>" to the error writer and returns <paramref name="exitCode"/>.</summary>
    public async Task<int> FailAsync(string verb, string message, int exitCode)
    {
        await Error.WriteLineAsync($"{verb}: {message}").ConfigureAwait(false);
        return exitCode;
    }
}
