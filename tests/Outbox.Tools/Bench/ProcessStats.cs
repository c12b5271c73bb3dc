using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>What the kernel knows of a process (Linux /proc): peak resident set size and CPU time used.</summary>
internal static class ProcessStats
{
    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat times (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Peak RSS (VmHWM) in MB, or null where /proc is not available or the process is gone.</summary>
    public static double? PeakRssMb(int processId)
    {
        var path = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var kilobytes = line["VmHWM:".Length..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024.0;
        }
        return null;
    }

    /// <summary>
    /// User plus system CPU seconds the process used so far, or null where /proc is not available. On a
    /// shared machine this is steadier than wall time: it tells what the relay costs, not what it waited for.
    /// </summary>
    public static double? CpuSeconds(int processId)
    {
        var path = $"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat";
        if (!File.Exists(path)) return null;
        var stat = File.ReadAllText(path);
        // Fields after the command name (which may hold spaces, so it is skipped by its closing parenthesis):
        // state is field 3; utime and stime are fields 14 and 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }
}
