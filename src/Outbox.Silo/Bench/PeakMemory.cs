using System.Globalization;

namespace Outbox.Silo.Bench;

/// <summary>A process's peak resident set size, as the kernel tracks it (VmHWM in /proc/&lt;pid&gt;/status).</summary>
internal static class PeakMemory
{
    /// <summary>Peak RSS in MB, or null where /proc is not available (not Linux) or the process is gone.</summary>
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
}
