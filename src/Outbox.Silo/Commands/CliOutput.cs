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
            : CaptureConsole(Out);
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>For human-readable tables.</summary>
    public IAnsiConsole Console { get; }

    public static CliOutput For(ParseResult parse) => new(parse);

    /// <summary>A plain, wide console over a writer that is not a terminal (tables would otherwise wrap at 80 columns).</summary>
    private static IAnsiConsole CaptureConsole(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 200;
        return console;
    }

    public Task JsonAsync<T>(T value) => Out.WriteLineAsync(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Writes "<paramref name="verb"/>: <paramref name="message"/>" to the error writer and returns <paramref name="exitCode"/>.</summary>
    public async Task<int> FailAsync(string verb, string message, int exitCode)
    {
        await Error.WriteLineAsync($"{verb}: {message}").ConfigureAwait(false);
        return exitCode;
    }
}
