using System.Diagnostics;

namespace Outbox.Tools.Verification;

/// <summary>
/// A silo running as a child process (the demo, cluster tests and benchmarks use real processes so they can
/// be killed). Its output is prefixed and forwarded, or kept, for diagnosis.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Action<string>? _output;

    private SiloProcess(string name, Process process, Action<string>? output)
    {
        Name = name;
        _process = process;
        _output = output;
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The process's exit code, once it has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>Outbox.Silo silo</c> with the given configuration (Section:Key -> value).</summary>
    public static SiloProcess Start(string name, IReadOnlyDictionary<string, string> configuration, Action<string>? output = null,
        IReadOnlyDictionary<string, string>? environment = null) =>
        Launch(name, Assembly("Outbox.Silo.dll"), "silo", configuration, output, environment);

    /// <summary>Starts a verb of the tooling (<c>Outbox.Tools consume</c>: the ledger's inbox consumer) the same way.</summary>
    public static SiloProcess StartTool(string name, string verb, IReadOnlyDictionary<string, string> configuration, Action<string>? output = null) =>
        Launch(name, Assembly("Outbox.Tools.dll"), verb, configuration, output, null);

    private static SiloProcess Launch(string name, string assembly, string verb, IReadOnlyDictionary<string, string> configuration, Action<string>? output,
        IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add(verb);
        foreach (var (key, value) in configuration) info.ArgumentList.Add($"--{key}={value}");
        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>()) info.Environment[variable] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start a silo process.");
        var silo = new SiloProcess(name, process, output);
        process.OutputDataReceived += (_, e) => silo.Forward(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Forward(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private void Forward(string? line)
    {
        if (line is not null) _output?.Invoke($"[{Name}] {line}");
    }

    /// <summary>SIGKILL: the process dies with no chance to finish anything.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: a graceful shutdown that finishes in-flight batches.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return;
        Signal("TERM");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>SIGSTOP / SIGCONT: freeze and resume the whole process (a zombie in the making).</summary>
    public void Freeze() => Signal("STOP");

    public void Resume() => Signal("CONT");

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal("CONT");
            await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        _process.Dispose();
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    /// <summary>An executable assembly (Outbox.Silo.dll, Outbox.Tools.dll) next to this one (the tools, or a test's output folder).</summary>
    private static string Assembly(string file)
    {
        var here = Path.Combine(AppContext.BaseDirectory, file);
        if (File.Exists(Path.ChangeExtension(here, ".runtimeconfig.json"))) return here;
        throw new FileNotFoundException($"{file} with its runtimeconfig was not found in {AppContext.BaseDirectory}.");
    }
}
