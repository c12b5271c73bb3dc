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
            with { Messages = 10_000, SteadySeconds = 3, Rate = 500, Writers = 4, WriteSeconds = 2, WriteClients = 4, ChurnSeconds = 3, ChurnRate = 200 };
        using var output = new StringWriter();

        var results = await new BenchRunner(settings, output).RunAsync(CancellationToken.None);

        var text = output.ToString();
        Assert.All(results, r => Assert.True(r.Correct, $"{r.Scenario} failed its checks:\n{text}"));
        // Backlog and steady run once per delivery mode; exactly-once's backlog line also carries its ratio to at-least-once.
        var backlog = Lines(text, "backlog").Distinct().ToArray();
        Assert.Equal(["at-least-once", "exactly-once"], backlog.Select(l => BacklogLine().Match(l).Groups["mode"].Value));
        Assert.All(backlog, l => Assert.Contains("messages=10000 ", l, StringComparison.Ordinal));
        Assert.Contains(" vs_at_least_once=", backlog[1], StringComparison.Ordinal);
        var steady = Lines(text, "steady").Distinct().ToArray();
        Assert.Equal(["at-least-once", "exactly-once"], steady.Select(l => SteadyLine().Match(l).Groups["mode"].Value));
        var baseline = Assert.Single(Lines(text, "baseline").Distinct());
        Assert.Matches(BaselineLine(), baseline);
        Assert.Matches(FailoverLine(), Assert.Single(Lines(text, "failover").Distinct()));
        Assert.Matches(WriteLine(), Assert.Single(Lines(text, "write").Distinct()));
        var churn = Assert.Single(Lines(text, "churn").Distinct());
        Assert.Matches(ChurnLine(), churn);
        Assert.EndsWith(" lost=0", churn, StringComparison.Ordinal);
    }

    private static IEnumerable<string> Lines(string output, string scenario) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith($"bench: scenario={scenario} ", StringComparison.Ordinal));

    private const string Number = @"\d+(\.\d+)?";

    [GeneratedRegex($"^bench: scenario=backlog mode=(?<mode>[a-z-]+) messages=\\d+ seconds={Number} msgs_per_s=\\d+ db_ceiling_per_s=\\d+ ratio={Number} peak_rss_mb=\\d+( vs_at_least_once={Number})?$")]
    private static partial Regex BacklogLine();

    [GeneratedRegex($"^bench: scenario=steady mode=(?<mode>[a-z-]+) rate=\\d+ reached=\\d+ seconds=\\d+ p50_ms={Number} p95_ms={Number} p99_ms={Number} max_ms={Number} lost=0$")]
    private static partial Regex SteadyLine();

    [GeneratedRegex($"^bench: scenario=write clients=\\d+ seconds=\\d+ insert_tps=\\d+ enqueue_tps=\\d+ ratio={Number}$")]
    private static partial Regex WriteLine();

    [GeneratedRegex($"^bench: scenario=churn rate=\\d+ seconds=\\d+ p50_ms={Number} p99_ms={Number} db_ms_per_1k={Number} db_ms_per_1k_first={Number} growth={Number} reached=\\d+ lost=\\d+$")]
    private static partial Regex ChurnLine();

    [GeneratedRegex($"^bench: scenario=failover silos=3 kill=1 resume_s={Number} duplicates=\\d+ lost=0 out_of_order=0$")]
    private static partial Regex FailoverLine();

    [GeneratedRegex($"^bench: scenario=baseline messages=[1-9]\\d* msgs_per_s={Number} speedup=\\d+$")]
    private static partial Regex BaselineLine();
}
