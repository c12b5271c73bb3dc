using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>
/// The naive relay (<see cref="NaiveRelay"/>) on the same kind of data, bounded in time since it is slow by
/// design, and the relay's backlog rate from the same run divided by its rate.
/// </summary>
internal sealed class BaselineScenario : IBenchScenario
{
    private const string Topic = "bench-baseline";

    /// <summary>The naive relay cannot exceed 100 rows per one-second poll; twice that never runs dry.</summary>
    private const int RowsPerSecondLoaded = 200;

    public string Name => BenchScenarios.Baseline;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        environment.CreateTopic(Topic);
        await using (var schema = environment.DataSource.CreateCommand(BenchSql.NaiveSchema))
            await schema.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using (var load = environment.DataSource.CreateCommand(BenchSql.NaiveLoad))
        {
            load.Parameters.AddWithValue("topic", Topic);
            load.Parameters.AddWithValue("keys", settings.Keys);
            load.Parameters.AddWithValue("bytes", settings.PayloadBytes);
            load.Parameters.AddWithValue("rows", settings.BaselineSeconds * RowsPerSecondLoaded);
            await load.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var (sent, seconds) = await new NaiveRelay(environment.DataSource, environment.BootstrapServers)
            .RunAsync(TimeSpan.FromSeconds(settings.BaselineSeconds), cancellationToken).ConfigureAwait(false);
        var rate = sent / seconds;
        var backlog = earlier.OfType<BacklogResult>().FirstOrDefault(b => b.Mode == BenchEnvironment.ModeName(Grains.Relay.DeliveryMode.AtLeastOnce));
        return new BaselineResult(sent, seconds, rate, backlog is null || sent == 0 ? null : backlog.MessagesPerSecond / rate);
    }
}

/// <summary>The baseline scenario's figures; the speedup is known only when the backlog scenario ran before it (and the naive relay sent something).</summary>
internal sealed record BaselineResult(long Messages, double Seconds, double MessagesPerSecond, double? Speedup) : BenchResult(BenchScenarios.Baseline)
{
    public override bool Correct => Messages > 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=baseline messages={Messages} msgs_per_s={MessagesPerSecond:0.0} speedup={SpeedupText}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("naive relay", string.Create(CultureInfo.InvariantCulture, $"{Messages} msgs in {Seconds:0.0} s = {MessagesPerSecond:0.0} msgs/s")),
        ("speedup (backlog / naive)", SpeedupText + (Speedup is null ? " (run with the backlog scenario)" : "x")),
    ];

    private string SpeedupText => Speedup is { } s ? s.ToString("0", CultureInfo.InvariantCulture) : "n/a";
}
