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

        await Eventually.TrueAsync(() => Task.FromResult(
                Received("/v1/metrics", "messaging.client.sent.messages", "outbox.commit_to_ack.duration", "outbox.backlog",
                    "outbox.partitions.owned", "outbox.rebalances", "db.client.connection.count", "silo-exporting", "outbox-relay")),
            TimeSpan.FromSeconds(15), "the relay's and Npgsql's metrics are exported with the silo's identity");
        // Histograms carry the relay's second-scale buckets (packed doubles in the protobuf), not the exporter's
        // millisecond defaults.
        var secondBuckets = BitConverter.GetBytes(0.005).Concat(BitConverter.GetBytes(0.01)).Concat(BitConverter.GetBytes(0.025)).ToArray();
        Assert.Contains(_received, r => r.Path == "/v1/metrics" && r.Body.AsSpan().IndexOf(secondBuckets) >= 0);
        await Eventually.TrueAsync(() => Task.FromResult(Received("/v1/traces", $"send {topic}", "messaging.destination.name", "silo-exporting")),
            TimeSpan.FromSeconds(15), "send spans are exported");
    }

    /// <summary>True when the bodies posted to <paramref name="path"/> together contain every one of <paramref name="texts"/>.</summary>
    private bool Received(string path, params string[] texts)
    {
        var all = string.Join("\n", _received.Where(r => r.Path == path).Select(r => Encoding.UTF8.GetString(r.Body)));
        return texts.All(t => all.Contains(t, StringComparison.Ordinal));
    }
}
