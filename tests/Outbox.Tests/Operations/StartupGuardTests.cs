using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Operations;

/// <summary>
/// Start-up refuses what would be unsafe and says so in one line: a short or example admin token, and any invalid
/// setting, without the host's stack trace ahead of the message. Logs carry exceptions, not their messages.
/// </summary>
public sealed partial class StartupGuardTests : RelayTestBase
{
    [Theory]
    [InlineData("change-me", "example value")]
    [InlineData("short-token", "at least 16 characters")]
    public async Task AShortOrExampleAdminTokenStopsTheSilo(string token, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string> { ["Admin:Token"] = token }));
        Assert.Contains("Admin:Token", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInvalidSettingStopsTheSiloWithOneLineAndNoStackTrace()
    {
        var lines = new List<string>();
        var configuration = TestSilo.Configuration(Db, Kafka, overrides: new Dictionary<string, string> { ["Relay:BatchSize"] = "-5" });
        await using var silo = SiloProcess.Start("invalid", configuration, line => { lock (lines) lines.Add(line); });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await silo.WaitForExitAsync(timeout.Token);
        await Task.Delay(200); // the last output lines

        string[] output;
        lock (lines) output = [.. lines];
        Assert.Equal(2, silo.ExitCode);
        Assert.Contains(output, l => l.Contains("BatchSize", StringComparison.Ordinal));
        Assert.DoesNotContain(output, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public void NoLogCallPassesAnExceptionsMessageInsteadOfTheException()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => LogWithExceptionMessage().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToArray();
        Assert.True(offenders.Length == 0, "log calls that lose the stack trace:\n" + string.Join('\n', offenders));
    }

    /// <summary>A Log...(...) call whose argument is an exception's Message (e.Message, ex.Message, Exception?.Message).</summary>
    [GeneratedRegex(@"\bLog[A-Z]\w*\(.*\b(e|ex|exception|Exception\??)\.Message\b")]
    private static partial Regex LogWithExceptionMessage();
}
