using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Outbox.Tools.Bench;

/// <summary>
/// Throughput and memory: a backlog of N committed rows over every partition, drained by one silo process,
/// timed from the moment its partitions are released until every row is acknowledged and removed; and the
/// database ceiling for the same rows, measured first on the same database.
/// </summary>
internal sealed class BacklogScenario : IBenchScenario
{
    private const string BaseTopic = "bench-backlog";
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(60);

    public string Name => BenchScenarios.Backlog;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var topic = environment.TopicFor(BaseTopic);
        environment.CreateTopic(topic);
        await environment.StopSiloAsync().ConfigureAwait(false);

        await LoadAsync(environment, topic, cancellationToken).ConfigureAwait(false);
        var (ceilingRows, ceilingSeconds) = await DatabaseCeiling.DrainAsync(environment, cancellationToken).ConfigureAwait(false);
        var ceiling = ceilingRows / ceilingSeconds;
        Report(environment, $"database ceiling: {ceilingRows} rows drained without Kafka in {ceilingSeconds:0.00}s ({ceiling:0} rows/s)");

        await LoadAsync(environment, topic, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(environment.DataSource, BenchSql.PauseAll, cancellationToken, ("paused", true)).ConfigureAwait(false);
        var silo = await environment.StartSiloAsync(cancellationToken).ConfigureAwait(false);
        using var progress = new TopicProgress(environment.BootstrapServers, topic, settings.TopicPartitions);

        var cpuBefore = ProcessStats.CpuSeconds(silo.ProcessId) ?? 0;
        var started = Stopwatch.GetTimestamp();
        await ExecuteAsync(environment.DataSource, BenchSql.PauseAll, cancellationToken, ("paused", false)).ConfigureAwait(false);
        await ExecuteAsync(environment.DataSource, BenchSql.WakeAll, cancellationToken).ConfigureAwait(false);
        var published = await WaitForTopicAsync(environment, progress, started, cancellationToken).ConfigureAwait(false);
        var remaining = await WaitForEmptyOutboxAsync(environment, cancellationToken).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpu = (ProcessStats.CpuSeconds(silo.ProcessId) ?? 0) - cpuBefore;
        var peakRss = ProcessStats.PeakRssMb(silo.ProcessId) ?? 0;
        var rate = settings.Messages / seconds;
        // Exactly-once measured against at-least-once of the same run: the cost of the mode as a ratio.
        var atLeastOnce = environment.Mode == Grains.Relay.DeliveryMode.ExactlyOnce
            ? earlier.OfType<BacklogResult>().FirstOrDefault(b => b.Mode == BenchEnvironment.ModeName(Grains.Relay.DeliveryMode.AtLeastOnce))
            : null;
        return new BacklogResult(BenchEnvironment.ModeName(environment.Mode), settings.Messages, seconds, rate, ceiling, peakRss, cpu, published, remaining,
            rate / atLeastOnce?.MessagesPerSecond);
    }

    private static async Task LoadAsync(BenchEnvironment environment, string topic, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await ExecuteAsync(environment.DataSource, BenchSql.ResetMessages, cancellationToken).ConfigureAwait(false);
        await BacklogPreloader.LoadAsync(environment.DataSource, environment.Settings, topic, cancellationToken).ConfigureAwait(false);
        Report(environment, $"preloaded {environment.Settings.Messages} rows in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0}s");
    }

    /// <summary>Waits until the topic holds every preloaded message, reporting progress each second.</summary>
    private static async Task<long> WaitForTopicAsync(BenchEnvironment environment, TopicProgress progress, long started, CancellationToken cancellationToken)
    {
        var target = environment.Settings.Messages;
        long last = -1;
        var lastChange = Stopwatch.GetTimestamp();
        var lastReport = started;
        while (true)
        {
            var published = await Task.Run(progress.Messages, cancellationToken).ConfigureAwait(false);
            if (published >= target) return published;
            if (published != last) (last, lastChange) = (published, Stopwatch.GetTimestamp());
            else if (Stopwatch.GetElapsedTime(lastChange) > StallLimit)
                throw new TimeoutException($"The backlog drain stalled at {published} of {target} messages.");
            if (environment.Silo is { HasExited: true }) throw new InvalidOperationException("The silo exited during the backlog drain.");
            if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 1)
            {
                lastReport = Stopwatch.GetTimestamp();
                Report(environment, $"backlog: {published} of {target} published after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0}s");
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Everything is in Kafka; waits for the last completions to remove their rows.</summary>
    private static async Task<long> WaitForEmptyOutboxAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(StallLimit.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            await using var count = environment.DataSource.CreateCommand(BenchSql.CountMessages);
            var remaining = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (remaining == 0 || Stopwatch.GetTimestamp() > deadline) return remaining;
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Report(BenchEnvironment environment, FormattableString message) =>
        environment.Progress.WriteLine("bench: " + message.ToString(CultureInfo.InvariantCulture));
}

/// <summary>The backlog scenario's figures.</summary>
internal sealed record BacklogResult(string Mode, int Messages, double Seconds, double MessagesPerSecond, double CeilingPerSecond, double PeakRssMb,
    double SiloCpuSeconds, long Published, long Remaining, double? VersusAtLeastOnce) : BenchResult(BenchScenarios.Backlog)
{
    public const double RatioTarget = 0.6;

    public const double RssTargetMb = 300;

    public double Ratio => MessagesPerSecond / CeilingPerSecond;

    public override bool Correct => Published >= Messages && Remaining == 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=backlog mode={Mode} messages={Messages} seconds={Seconds:0.00} msgs_per_s={MessagesPerSecond:0} db_ceiling_per_s={CeilingPerSecond:0} ratio={Target.AtLeast(Ratio, RatioTarget)} peak_rss_mb={Target.AtMost(PeakRssMb, RssTargetMb, "0")}{(VersusAtLeastOnce is { } v ? $" vs_at_least_once={v:0.00}" : "")}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("mode", Mode),
        ("messages", Invariant($"{Messages}")),
        ("drain time", Invariant($"{Seconds:0.00} s")),
        ("relay throughput", Invariant($"{MessagesPerSecond:0} msgs/s")),
        ("database ceiling", Invariant($"{CeilingPerSecond:0} rows/s")),
        ("relay / ceiling (target >= 0.6)", Invariant($"{Ratio:0.00}")),
        ("throughput / at-least-once", VersusAtLeastOnce is { } v ? Invariant($"{v:0.00}") : "-"),
        ("silo peak RSS (target <= 300 MB)", Invariant($"{PeakRssMb:0} MB")),
        ("silo CPU per message", Invariant($"{SiloCpuSeconds * 1e6 / Messages:0.0} us ({SiloCpuSeconds:0.0} s in all)")),
        ("messages in Kafka", Invariant($"{Published}")),
        ("rows left in outbox", Invariant($"{Remaining}")),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
