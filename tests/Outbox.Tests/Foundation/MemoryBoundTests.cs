using System.Globalization;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Foundation;

/// <summary>
/// Memory is bounded in bytes, not only rows: a silo process under a GC heap hard limit far below the backlog's
/// size drains 1,000 payloads of 1 MB (a gigabyte) without running out of memory, and its peak RSS stays under
/// the 512 MiB a Kubernetes pod of the relay is given.
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output) : RelayTestBase
{
    private const int Messages = 1000;
    private const int PayloadBytes = 1_000_000;
    private const string GcHeapHardLimit = "0xC000000"; // 192 MiB
    private const double PodLimitMb = 512;

    [Fact]
    public async Task ASiloUnderAHeapLimitDrainsAGigabyteOfOneMegabytePayloads()
    {
        var topic = Kafka.CreateTopic();
        for (var i = 0; i < Messages; i += 20)
        {
            var messages = Enumerable.Range(i, 20).Select(n =>
            {
                var payload = new byte[PayloadBytes];
                Random.Shared.NextBytes(payload); // incompressible, as stored and as sent
                return Enqueue.Event(topic, $"big-{n % 100}", n / 100 + 1) with { Payload = payload };
            }).ToArray();
            await Enqueue.CommitAsync(Db, messages);
        }
        var configuration = TestSilo.Configuration(Db, Kafka, "memory-silo", new Dictionary<string, string> { ["Urls"] = "http://127.0.0.1:0" });
        await using var silo = SiloProcess.Start("memory-silo", configuration, output.WriteLine,
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = GcHeapHardLimit });

        // A row leaves the outbox only once Kafka acknowledged it, so an empty outbox is a gigabyte acknowledged.
        // (The embedded Kafka keeps only a few megabytes per partition, too little for a consumer to check 1 MB messages.)
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(240);
        long missing;
        while ((missing = await Db.ScalarAsync("select count(*) from outbox.messages")) > 0 && DateTime.UtcNow < deadline && !silo.HasExited)
            await Task.Delay(500);
        var peakRssMb = silo.HasExited ? double.NaN : PeakRssMb(silo.ProcessId);
        output.WriteLine($"memory: {Messages} x {PayloadBytes} bytes drained, GC heap hard limit {GcHeapHardLimit}, silo peak RSS {peakRssMb:0} MB");

        Assert.False(silo.HasExited, "the silo process died (out of memory?) while draining");
        Assert.True(missing == 0, $"{missing} of {Messages} large messages were not acknowledged by Kafka");
        Assert.True(peakRssMb < PodLimitMb, $"silo peak RSS {peakRssMb:0} MB is above {PodLimitMb} MB");
    }

    /// <summary>VmHWM of /proc/&lt;pid&gt;/status, in MB.</summary>
    private static double PeakRssMb(int processId)
    {
        var line = File.ReadLines($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }
}
