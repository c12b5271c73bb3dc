using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>
/// The machine a run measures (cores, CPU model, memory) and its load when each scenario starts and ends, from /proc:
/// on a shared 2-core machine a figure means little without them, so the run prints them beside its figures rather
/// than leaving them to be recorded by hand.
/// </summary>
internal static class BenchMachine
{
    /// <summary>"2 cores, AMD EPYC, 24 GB": what /proc tells of the machine, the core count where it tells nothing.</summary>
    public static string Describe()
    {
        var parts = new List<string> { Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores" };
        if (Field("/proc/cpuinfo", "model name") is { } model) parts.Add(model);
        if (Field("/proc/meminfo", "MemTotal") is { } memory && long.TryParse(memory.Split(' ')[0], CultureInfo.InvariantCulture, out var kilobytes))
            parts.Add((kilobytes / (1024.0 * 1024)).ToString("0", CultureInfo.InvariantCulture) + " GB");
        return string.Join(", ", parts);
    }

    /// <summary>"13:04:09 UTC, load average 10.47": the time, and the 1-minute load average where /proc offers it.</summary>
    public static string Load()
    {
        var now = DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
        return File.Exists("/proc/loadavg") ? now + ", load average " + File.ReadAllText("/proc/loadavg").Split(' ')[0] : now;
    }

    private static string? Field(string path, string name)
    {
        if (!File.Exists(path)) return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}
