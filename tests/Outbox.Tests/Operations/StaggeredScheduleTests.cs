using System.Diagnostics;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Operations;

/// <summary>
/// Many schedules falling due one after another in one partition cost what the rows cost, not the square of them: the
/// read this replaced restarted at each row that fell due and walked every not-yet-due row above it. Compared with the
/// same number of unscheduled rows drained by the same silo in the same run (a ratio, not a time).
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class StaggeredScheduleTests(ITestOutputHelper output) : RelayTestBase
{
    private const int Rows = 200_000;
    private const int Partition = 7;

    [Fact]
    public async Task StaggeredSchedulesInOnePartitionDrainWithinThriceTheTimeOfUnscheduledRows()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        // The statistics the planner sees are those of the unscheduled rows (analysed below, and not refreshed by autovacuum
        // meanwhile), as in production when a bulk schedule arrives before autovacuum looked at the table: they say no row is
        // scheduled, which once made every release statement walk every schedule of the partition once per key.
        await using (var stale = Db.DataSource.CreateCommand("alter table outbox.messages set (autovacuum_enabled = false)"))
            await stale.ExecuteNonQueryAsync();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string> { ["Relay:BatchSize"] = "1000" });

        var plain = await TimeToDrainAsync(verifier, topic, "plain", schedule: null);
        // Each row falls due 5 microseconds after the previous one: the whole schedule falls due within a second, so the
        // relay releases rows while later ones are still waiting, as it would over hours at a slower pace.
        var scheduled = await TimeToDrainAsync(verifier, topic, "scheduled", schedule: TimeSpan.FromSeconds(2));

        output.WriteLine($"{Rows} unscheduled rows: {plain.TotalSeconds:0.0}s; {Rows} staggered schedules: {scheduled.TotalSeconds:0.0}s " +
                         $"after the first fell due (ratio {scheduled / plain:0.00})");
        // Releases cost more than plain reads (a stop lookup per key and an update per row): 1.2-1.3 alone, 2.1 once in a
        // full run. What this guards against is far above 3: 14 (a release walking every schedule per key), 4.6 (the idle
        // interval while a partition still read from a cursor).
        Assert.True(scheduled <= 3 * plain, $"schedules took {scheduled.TotalSeconds:0.0}s, unscheduled rows {plain.TotalSeconds:0.0}s");
        Assert.Equal(0, verifier.OutOfOrder);
    }

    /// <summary>
    /// Inserts the rows (each of its own key) and times their drain: from the insert for unscheduled rows, from the first
    /// due time for scheduled ones (each row due 5 µs after the previous, the first <paramref name="schedule"/> ahead).
    /// </summary>
    private async Task<TimeSpan> TimeToDrainAsync(DeliveryVerifier verifier, string topic, string prefix, TimeSpan? schedule)
    {
        var ahead = schedule ?? TimeSpan.Zero;
        await using var command = Db.DataSource.CreateCommand($"""
            insert into outbox.messages (partition, event_id, topic, key, payload, deliver_at)
            select {Partition}, gen_random_uuid(), @topic, '{prefix}-' || i, '\x00'::bytea,
                   case when @scheduled then now() + @ahead + i * interval '5 microseconds' end
            from generate_series(1, @rows) i
            returning event_id
            """);
        // 200,000 rows through the validation trigger take seconds on an idle machine and beyond the default 30 s when
        // other suites share its 2 cores.
        command.CommandTimeout = 300;
        command.Parameters.AddWithValue("topic", topic);
        command.Parameters.AddWithValue("scheduled", schedule is not null);
        command.Parameters.AddWithValue("ahead", ahead);
        command.Parameters.AddWithValue("rows", Rows);
        var ids = new List<Guid>(Rows);
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        }
        var started = Stopwatch.StartNew();
        if (schedule is null)
        {
            await using var analyze = Db.DataSource.CreateCommand("analyze outbox.messages");
            await analyze.ExecuteNonQueryAsync();
        }
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromMinutes(3)));
        return started.Elapsed - ahead;
    }
}
