using System.Text.RegularExpressions;
using Npgsql;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Bench;

namespace Outbox.Tests.Bench;

/// <summary>
/// The quick benchmark as CI runs it: every scenario completes, nothing is lost, and each prints its
/// machine-readable line in the documented form. Speed is never asserted here (the machine is shared).
/// </summary>
public sealed partial class QuickBenchTests : IAsyncLifetime
{
    private readonly string _database = "outbox_bench_test_" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestDatabase.ServerConnectionString);
        await admin.OpenAsync();
        foreach (var database in new[] { _database, _database + "_failover" })
        {
            await using var drop = new NpgsqlCommand($"drop database if exists {database} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task QuickBenchDeliversEverythingAndPrintsOneWellFormedLinePerScenario()
    {
        var settings = new BenchSettings { ConnectionString = TestDatabase.ServerConnectionString, Database = _database }.AsQuick()
            with { Messages = 10_000, Writers = 4, WriteSeconds = 2, WriteClients = 4, ChurnSeconds = 3 };
        using var output = new StringWriter();

        var results = await new BenchRunner(settings, output).RunAsync(CancellationToken.None);

        var text = output.ToString();
        Assert.All(results, r => Assert.True(r.Correct, $"{r.Scenario} failed its checks:\n{text}"));
        // Figures of a shared machine mean little without it: the run names the machine, and the time and load of each scenario.
        Assert.Matches(@"; machine \d+ cores", text);
        Assert.All(text.Split('\n').Where(l => l.StartsWith("bench: running ", StringComparison.Ordinal) || l.StartsWith("bench: finished ", StringComparison.Ordinal)),
            l => Assert.Matches(@" at \d\d:\d\d:\d\d UTC, load average \d+\.\d+\r?$", l));
        // Backlog and steady run once per delivery mode; exactly-once's backlog line also carries its ratio to at-least-once.
        var backlog = Lines(text, "backlog").Distinct().ToArray();
        Assert.Equal(["at-least-once", "exactly-once"], backlog.Select(l => BacklogLine().Match(l).Groups["mode"].Value));
        Assert.All(backlog, l => Assert.Contains("messages=10000 ", l, StringComparison.Ordinal));
        Assert.Contains(" vs_at_least_once=", backlog[1], StringComparison.Ordinal);
        // Steady: at half the writers' maximum in both modes, with its stage breakdown; the overload and the cost against
        // the baseline poller in at-least-once.
        var steady = Lines(text, "steady").Distinct().ToArray();
        Assert.Equal(["at-least-once", "exactly-once"], steady.Select(l => SteadyLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["mode"].Value));
        Assert.Equal(["at-least-once", "exactly-once"], steady.Select(l => StagesLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["mode"].Value));
        Assert.Single(steady, l => OverloadLine().IsMatch(l));
        Assert.Single(steady, l => CostLine().IsMatch(l));
        Assert.Equal(6, steady.Length);
        var scale = Lines(text, "scale").Distinct().ToArray();
        Assert.Equal(2, scale.Length);
        Assert.Matches(ScaleSmallLine(), scale[0]);
        Assert.Matches(ScaleLargeLine(), scale[1]);
        var baseline = Assert.Single(Lines(text, "baseline").Distinct());
        Assert.Matches(BaselineLine(), baseline);
        Assert.Matches(FailoverLine(), Assert.Single(Lines(text, "failover").Distinct()));
        Assert.Matches(WriteLine(), Assert.Single(Lines(text, "write").Distinct()));
        var churn = Lines(text, "churn").Distinct().ToArray();
        Assert.Equal(["inserted", "read"], churn.Select(l => ChurnLine().Match(l).Groups["variant"].Value));
    }

    private static IEnumerable<string> Lines(string output, string scenario) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith($"bench: scenario={scenario} ", StringComparison.Ordinal));

    private const string Number = @"-?\d+(\.\d+)?";

    /// <summary>A figure with its target: 6.1[&lt;=8:met].</summary>
    private const string Targeted = $@"{Number}\[(<=|<|>=)\d+(\.\d+)?:(met|missed)\]";

    private const string Stage = $"{Number}/{Number}";

    [GeneratedRegex($"^bench: scenario=backlog mode=(?<mode>[a-z-]+) messages=\\d+ seconds={Number} msgs_per_s=\\d+ db_ceiling_per_s=\\d+ ratio={Targeted} peak_rss_mb={Targeted}( vs_at_least_once={Number})?$")]
    private static partial Regex BacklogLine();

    [GeneratedRegex($"^bench: scenario=steady mode=(?<mode>[a-z-]+) writers_max_tps=\\d+ rate=\\d+ reached=\\d+ seconds=\\d+ p50_ms={Targeted} p95_ms={Number} p99_ms={Targeted} max_ms={Number} relay_db_cpu_pct={Number} silo_cpu_pct={Number} lost=0$")]
    private static partial Regex SteadyLine();

    [GeneratedRegex($"^bench: scenario=steady part=stages mode=(?<mode>[a-z-]+) commit_wake_ms={Stage} wake_read_ms={Stage} read_produced_ms={Stage} produced_consumer_ms={Stage} stamped=[1-9]\\d*$")]
    private static partial Regex StagesLine();

    [GeneratedRegex($"^bench: scenario=steady part=overload rate=\\d+ reached=\\d+ seconds=\\d+ backlog_mid=\\d+ lag_mid_ms=\\d+ backlog_end=\\d+ lag_end_ms=\\d+ drain_s=({Number}|none) p50_ms={Number} p99_ms={Number} bounded=(yes|no) lost=0$")]
    private static partial Regex OverloadLine();

    [GeneratedRegex($"^bench: scenario=steady part=cost rate=\\d+ seconds=\\d+ relay_reached=\\d+ relay_db_cpu_pct={Number} silo_cpu_pct={Number} relay_cpu_pct={Number} relay_p50_ms={Number} relay_p99_ms={Number} poller_reached=\\d+ poller_db_cpu_pct={Number} poller_process_cpu_pct={Number} poller_cpu_pct={Number} poller_p50_ms={Number} poller_p99_ms={Number} relay_vs_poller={Targeted} lost=0$")]
    private static partial Regex CostLine();

    [GeneratedRegex($"^bench: scenario=scale partitions=\\d+ silos=\\d+ idle_db_cpu_pct_per_silo={Targeted} idle_silo_cpu_pct_max={Targeted} rate=\\d+ reached=\\d+ loaded_db_cpu_pct={Number} loaded_silos_cpu_pct={Number} loaded_cpu_ms_per_1k={Number} p50_ms={Number} p99_ms={Number} lost=0$")]
    private static partial Regex ScaleSmallLine();

    [GeneratedRegex($"^bench: scenario=scale partitions=\\d+ silos=\\d+ idle_db_cpu_pct_per_silo={Targeted} idle_silo_cpu_pct_max={Targeted} rate=\\d+ reached=\\d+ loaded_db_cpu_pct={Number} loaded_silos_cpu_pct={Number} loaded_cpu_ms_per_1k={Number} loaded_cpu_vs_p\\d+={Targeted} p50_ms={Number} p50_vs_p\\d+={Targeted} p99_ms={Number} p99_vs_p\\d+={Targeted} lost=0$")]
    private static partial Regex ScaleLargeLine();

    [GeneratedRegex($"^bench: scenario=write clients=\\d+ seconds=\\d+ insert_tps=\\d+ csharp_tps=\\d+ csharp_ratio={Targeted} sql_tps=\\d+ sql_ratio={Targeted}$")]
    private static partial Regex WriteLine();

    [GeneratedRegex($"^bench: scenario=churn variant=(?<variant>[a-z]+) rate=\\d+ seconds=\\d+ reached=\\d+ p50_ms={Number} p99_ms={Number} p99_first_ms={Number} p99_last_ms={Number} p99_growth={Targeted} db_ms_per_1k_first={Number} db_ms_per_1k={Number} growth={Targeted} relay_db_ms_per_1k_first={Number} relay_db_ms_per_1k={Number} relay_growth={Targeted} lost=0$")]
    private static partial Regex ChurnLine();

    [GeneratedRegex($"^bench: scenario=failover silos=3 kill=1 resume_s={Number} duplicates=\\d+ lost=0 out_of_order=0$")]
    private static partial Regex FailoverLine();

    [GeneratedRegex($"^bench: scenario=baseline messages=[1-9]\\d* msgs_per_s={Number} speedup=\\d+$")]
    private static partial Regex BaselineLine();
}
