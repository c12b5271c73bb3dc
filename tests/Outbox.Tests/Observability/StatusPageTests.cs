using System.Text.Json.Nodes;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;

namespace Outbox.Tests.Observability;

/// <summary>
/// The status page in a real browser (headless Chromium): it loads without script or console errors, shows
/// every partition with its owner, and follows the relay live as messages are published, held back or parked.
/// </summary>
public sealed class StatusPageTests : RelayTestBase
{
    [Fact]
    public async Task ThePageShowsEveryPartitionAndItsOwnerAndUpdatesAsMessagesArePublished()
    {
        Assert.True(File.Exists(HeadlessChromium.Executable), "scripts/setup.sh installs Debian's chromium");
        var topic = Kafka.CreateTopic();
        // One paused partition keeps a visible backlog, as an operator would see a stuck partition.
        const int stuck = 5;
        await Db.ScalarAsync($"with p as (update outbox.partitions set paused = true where partition = {stuck} returning 1) select count(*) from p");
        await using var silo = await TestSilo.StartAsync(Db, Kafka, name: "silo-status-page");
        await using var browser = await HeadlessChromium.StartAsync();

        await browser.NavigateAsync(silo.BaseAddress);
        await WaitForPageAsync(browser, "polls > 0", "the page polled /status");
        var partitions = (await browser.EvaluateAsync(
            "Array.from(document.querySelectorAll('.part')).map(e => [Number(e.dataset.partition), e.dataset.owner, e.textContent])"))!.AsArray();
        Assert.Equal(Enumerable.Range(0, TestDatabase.Partitions), partitions.Select(p => (int)p![0]!));
        Assert.All(partitions, p => Assert.Equal("silo-status-page", (string?)p![1]));
        Assert.All(partitions, p => Assert.Contains("silo-status-page", (string?)p![2], StringComparison.Ordinal));
        Assert.Equal("0", await TextAsync(browser, "document.body.dataset.published"));
        var pollsBefore = int.Parse(await TextAsync(browser, "document.body.dataset.polls"));

        // A poison message: the broker rejects the next produce request for good, so its key is parked.
        var poison = Enqueue.Event(topic, "poison-key", 1);
        var poisoned = OutboxPartitioner.PartitionOf(poison.Key, TestDatabase.Partitions);
        Assert.NotEqual(stuck, poisoned);
        Kafka.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.Produce, MockKafkaCluster.Errors.MessageTooLarge);
        await Enqueue.CommitAsync(Db, poison);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null") == 1,
            TimeSpan.FromSeconds(20), "the poison message is parked");

        // Publish in waves so the rate plot has a shape; some keys land in the paused partition and stay there.
        var published = 0;
        for (var wave = 0; wave < 6; wave++)
        {
            var messages = Enumerable.Range(0, 100).Select(i => Enqueue.Event(topic, $"w{wave}-k{i}", 1)).ToArray();
            published += messages.Count(m => OutboxPartitioner.PartitionOf(m.Key, TestDatabase.Partitions) != stuck);
            await Enqueue.CommitAsync(Db, messages);
            await Task.Delay(700);
        }
        var stuckRows = await Db.ScalarAsync($"select count(*) from outbox.messages where partition = {stuck}");
        Assert.True(stuckRows > 0);

        await WaitForPageAsync(browser, $"document.body.dataset.published === '{published}'", "the page counts what this silo published");
        await WaitForPageAsync(browser,
            $"document.querySelector('.part[data-partition=\"{stuck}\"]').dataset.backlog === '{stuckRows}'",
            "the stuck partition's tile shows its backlog");
        Assert.True(int.Parse(await TextAsync(browser, "document.body.dataset.polls")) > pollsBefore, "the same page kept polling");
        await WaitForPageAsync(browser, $"document.getElementById('t-backlog').textContent.replace(/,/g, '') === '{stuckRows + 1}'",
            "the backlog total is the stuck partition's rows plus the parked one");
        Assert.Equal("1", await TextAsync(browser, "document.getElementById('t-parked').textContent"));
        Assert.Equal("true", await TextAsync(browser, $"document.querySelector('.part[data-partition=\"{poisoned}\"]').classList.contains('parked')"));
        Assert.True((double)(await browser.EvaluateAsync(
            "Array.from(document.querySelectorAll('#chart-rate polyline')).reduce((n, p) => n + Number(p.dataset.points), 0)"))! > 0,
            "the rate plot has points");
        Assert.NotEqual("–", await TextAsync(browser, "document.getElementById('t-latency').textContent"));

        var screenshot = await browser.ScreenshotAsync();
        Directory.CreateDirectory(ArtifactsDirectory);
        await File.WriteAllBytesAsync(Path.Combine(ArtifactsDirectory, "status-page.png"), screenshot);
        Assert.True(screenshot.Length > 10_000, "a screenshot with content");

        Assert.Equal("0", await TextAsync(browser, "document.body.dataset.errors"));
        Assert.Empty(browser.Errors);
    }

    /// <summary>artifacts/ at the repository root (next to Outbox.sln), where CI collects test artifacts.</summary>
    private static string ArtifactsDirectory => Path.Combine(RepositoryPaths.Root, "artifacts");

    private static async Task<string> TextAsync(HeadlessChromium browser, string expression) =>
        (await browser.EvaluateAsync($"String({expression})"))?.GetValue<string>() ?? "";

    private static Task WaitForPageAsync(HeadlessChromium browser, string condition, string because) =>
        Eventually.TrueAsync(async () =>
        {
            // Evaluated while the page may still be loading: anything missing yet counts as "not yet".
            var value = await browser.EvaluateAsync(
                $"(() => {{ try {{ const polls = Number(document.body.dataset.polls); return Boolean({condition}); }} catch (e) {{ return false; }} }})()");
            return value is JsonValue v && v.GetValue<bool>();
        }, TimeSpan.FromSeconds(30), because);
}
