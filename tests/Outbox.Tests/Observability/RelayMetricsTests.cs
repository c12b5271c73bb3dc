using System.Diagnostics.Metrics;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Observability;

/// <summary>The relay's metrics tell the truth: counts match what Kafka received, gauges match the outbox table.</summary>
public sealed class RelayMetricsTests : RelayTestBase
{
    [Fact]
    public async Task PublishedCounterBytesAndLatencyHistogramCountEveryAcknowledgedMessage()
    {
        const int messages = 240;
        const int payloadBytes = 100;
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var recorder = new MeterRecorder(silo.Get<IMeterFactory>());
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        var ids = new List<Guid>();
        for (var wave = 0; wave < 4; wave++)
            ids.AddRange(await Enqueue.CommitAsync(Db, Enumerable.Range(0, messages / 4)
                .Select(i => Enqueue.Event(topic, $"key-{i % 37}", wave * 100 + i, payloadBytes)).ToArray()));

        Assert.Equal(0, await verifier.WaitForAsync(ids.ToArray(), TimeSpan.FromSeconds(30)));
        // The counters are recorded right after the batch completes in the database; give that a moment.
        await Eventually.TrueAsync(() => Task.FromResult(recorder.Sum("messaging.client.sent.messages") >= messages),
            TimeSpan.FromSeconds(10), "the published counter catches up with Kafka");
        await Task.Delay(500);
        Assert.Equal(messages, verifier.Distinct);
        Assert.Equal(messages, recorder.Sum("messaging.client.sent.messages"));
        Assert.Equal(messages * payloadBytes, recorder.Sum("outbox.published.bytes"));
        Assert.Equal(messages, recorder.Samples("outbox.commit_to_ack.duration"));
        Assert.InRange(recorder.Sum("outbox.commit_to_ack.duration") / messages, 0, 30);
        Assert.Equal(messages, recorder.Sum("outbox.batch.size"));
        Assert.Equal(0, recorder.Sum("outbox.publish.failures"));
        Assert.Equal(TestDatabase.Partitions, recorder.Observe("outbox.partitions.owned"));
    }

    [Fact]
    public async Task BacklogGaugesEqualTheRowsInTheDatabase()
    {
        var topic = Kafka.CreateTopic();
        // Paused partitions keep their rows: a backlog that stays put while the silo runs.
        await Db.ScalarAsync("with p as (update outbox.partitions set paused = true where partition % 3 = 0 returning 1) select count(*) from p");
        await using var silo = await TestSilo.StartAsync(Db, Kafka,
            overrides: new Dictionary<string, string> { ["Telemetry:StatusPollInterval"] = "00:00:00.200" });
        using var recorder = new MeterRecorder(silo.Get<IMeterFactory>());

        await Enqueue.CommitAsync(Db, Enumerable.Range(0, 300).Select(i => Enqueue.Event(topic, $"key-{i}", 1)).ToArray());
        await Enqueue.CommitAsync(Db, Enumerable.Range(0, 20)
            .Select(i => Enqueue.Event(topic, $"later-{i}", 1) with { DeliverAt = DateTimeOffset.UtcNow.AddHours(1) }).ToArray());
        await Eventually.TrueAsync(async () => await Db.ScalarAsync(
                "select count(*) from outbox.messages where partition % 3 <> 0 and deliver_at is null") == 0,
            TimeSpan.FromSeconds(30), "unpaused partitions drain");

        var truth = await RowsPerPartitionAsync();
        Assert.True(truth.Values.Sum() > 20, "paused partitions hold a backlog");
        Dictionary<int, double> backlog = [];
        await Eventually.TrueAsync(() =>
        {
            backlog = recorder.ObservePerPartition("outbox.backlog");
            return Task.FromResult(backlog.Count == TestDatabase.Partitions
                && Enumerable.Range(0, TestDatabase.Partitions).All(p => backlog[p] == truth.GetValueOrDefault(p)));
        }, TimeSpan.FromSeconds(10), "the backlog gauge reports every partition's rows");

        var scheduled = recorder.ObservePerPartition("outbox.scheduled.messages");
        Assert.Equal(20, scheduled.Values.Sum());
        var age = recorder.ObservePerPartition("outbox.backlog.oldest_age");
        foreach (var partition in Enumerable.Range(0, TestDatabase.Partitions))
        {
            var due = await Db.ScalarAsync($"select count(*) from outbox.messages where partition = {partition} and deliver_at is null");
            if (due > 0) Assert.True(age[partition] > 0, $"partition {partition} has due rows, so an oldest age");
            else Assert.Equal(0, age[partition]);
        }
        Assert.Equal(0, recorder.ObservePerPartition("outbox.parked.messages").Values.Sum());
    }

    private async Task<Dictionary<int, long>> RowsPerPartitionAsync()
    {
        await using var command = Db.DataSource.CreateCommand("select partition, count(*) from outbox.messages group by partition");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<int, long>();
        while (await reader.ReadAsync()) rows[reader.GetInt32(0)] = reader.GetInt64(1);
        return rows;
    }
}
