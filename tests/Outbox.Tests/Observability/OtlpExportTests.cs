using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Observability;

/// <summary>
/// With Telemetry:OtlpEndpoint set, a silo pushes its metrics (the relay's and Npgsql's pool metrics) and its
/// send spans to an OTLP collector, identified by service name and silo name.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime, IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly TestKafka _kafka = new();
    private readonly HttpListener _collector = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private readonly int _port = LocalEnvironment.FreePort();
    private Task _serving = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        // A stand-in collector speaking OTLP/HTTP: it accepts every export and keeps the protobuf bodies, whose
        // strings (names, attribute values) are plain UTF-8 inside.
        _collector.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _collector.Start();
        _serving = Task.Run(async () =>
        {
            while (_collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _received.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        });
    }

    public async Task DisposeAsync()
    {
        _collector.Stop();
        await _serving;
        await _db.DisposeAsync();
        _kafka.Dispose();
    }

    public void Dispose() => ((IDisposable)_collector).Dispose();

    [Fact]
    public async Task MetricsAndSpansReachTheConfiguredCollector()
    {
        var topic = _kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(_db, _kafka, name: "silo-exporting", overrides: new Dictionary<string, string>
        {
            ["Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{_port}",
            ["Telemetry:OtlpProtocol"] = "http/protobuf",
            ["Telemetry:ExportInterval"] = "00:00:00.500",
            ["Telemetry:StatusPollInterval"] = "00:00:00.200",
        });
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var ids = await Enqueue.CommitAsync(_db, Enumerable.Range(0, 20).Select(i => Enqueue.Event(topic, $"k{i}", 1)).ToArray());
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(20)));

        string[] metrics = ["messaging.client.sent.messages", "outbox.commit_to_ack.duration", "outbox.backlog",
            "outbox.partitions.owned", "outbox.rebalances", "db.client.connection.count", "silo-exporting", "outbox-relay"];
        // Exports every 0.5 s; the deadline leaves room for a machine busy with other test classes. What is still
        // missing then is named by the assertion.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        while (Missing("/v1/metrics", metrics).Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Empty(Missing("/v1/metrics", metrics));
        // Histograms carry the relay's second-scale buckets (packed doubles in the protobuf), not the exporter's
        // millisecond defaults.
        var secondBuckets = BitConverter.GetBytes(0.005).Concat(BitConverter.GetBytes(0.01)).Concat(BitConverter.GetBytes(0.025)).ToArray();
        Assert.Contains(_received, r => r.Path == "/v1/metrics" && r.Body.AsSpan().IndexOf(secondBuckets) >= 0);
        await Eventually.TrueAsync(() => Task.FromResult(Missing("/v1/traces", $"send {topic}", "messaging.destination.name", "silo-exporting").Length == 0),
            TimeSpan.FromSeconds(45), "send spans are exported");
    }

    /// <summary>Which of <paramref name="texts"/> the bodies posted to <paramref name="path"/> do not contain, together.</summary>
    private string[] Missing(string path, params string[] texts)
    {
        var all = string.Join("\n", _received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));
        return texts.Where(t => !all.Contains(t, StringComparison.Ordinal)).ToArray();
    }
}
