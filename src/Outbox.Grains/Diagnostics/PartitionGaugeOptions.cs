using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Diagnostics;

/// <summary>
/// How often the relay reads its partitions' backlog for the gauges of the meter <c>Outbox.Relay</c>
/// (<c>outbox.backlog</c>, <c>outbox.backlog.oldest_age</c>, ...). Section "Telemetry", beside the host's exporter settings.
/// </summary>
public sealed class PartitionGaugeOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Telemetry";

    /// <summary>
    /// One aggregate query per interval, whatever the number of scrapers. The query counts the outbox rows, so it
    /// costs more as a backlog grows; the default matches the silo's export interval, as polling faster than
    /// exporting buys nothing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StatusPollInterval { get; set; } = TimeSpan.FromSeconds(15);
}
