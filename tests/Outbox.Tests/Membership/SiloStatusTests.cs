using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Outbox.Contracts;
using Outbox.Silo.Commands;
using Outbox.Silo.Membership;
using Outbox.Tests.Infrastructure;
using Outbox.Tests.Observability;

namespace Outbox.Tests.Membership;

/// <summary>
/// Operators see the cluster as Orleans sees it: the silos of the membership table (written by real silos through
/// the ADO.NET provider) with their state and heartbeat, and the outbox partitions each one owns, in the
/// <c>status</c> command, in <c>GET /status</c> and on the status page.
/// </summary>
public sealed class SiloStatusTests : RelayTestBase
{
    private readonly string _clusterId = "status-test-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task StatusListsEachSiloOfTheMembershipTableWithItsStateHeartbeatAndPartitions()
    {
        var ticks = new ReminderTicks();
        await using var first = await AdoNetSilo.StartAsync(Db.ConnectionString, _clusterId, "member-a", ticks);
        await using var second = await AdoNetSilo.StartAsync(Db.ConnectionString, _clusterId, "member-b", ticks);
        // Ownership as the partition grains record it: the owner column is the silo's name.
        await Db.ScalarAsync("""
            with p as (update outbox.partitions set owner = case when partition in (0, 1, 2, 5) then 'member-a' else 'member-b' end
                       returning 1) select count(*) from p
            """);
        var reader = new SiloMembershipReader(Db.DataSource);
        await Eventually.TrueAsync(async () => (await reader.GetSilosAsync()).Count(s => s.Status == "alive") == 2,
            TimeSpan.FromSeconds(30), "both silos alive");

        var silos = await reader.GetSilosAsync();
        var a = Assert.Single(silos, s => s.Name == "member-a");
        Assert.Equal(new[] { 0, 1, 2, 5 }, a.Partitions);
        Assert.Equal(_clusterId, a.ClusterId);
        Assert.Equal("127.0.0.1", a.Address);
        Assert.True(a.GatewayPort > 0);
        Assert.InRange(DateTimeOffset.UtcNow - a.LastIAmAlive, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        Assert.Equal(TestDatabase.Partitions - 4, Assert.Single(silos, s => s.Name == "member-b").Partitions.Count);

        var table = await RunStatusAsync();
        Assert.Contains("member-a", table, StringComparison.Ordinal);
        Assert.Contains("4: 0-2, 5", table, StringComparison.Ordinal);
        Assert.Contains("oldest pending", table, StringComparison.Ordinal);

        await second.StopAsync();
        var json = JsonNode.Parse(await RunStatusAsync("--silos", "--json"))!.AsArray();
        Assert.Equal("dead", json.Single(s => (string?)s!["name"] == "member-b")!["status"]!.GetValue<string>());
        Assert.Equal("alive", json.Single(s => (string?)s!["name"] == "member-a")!["status"]!.GetValue<string>());
        // Live silos come first: that is what an operator looks for.
        Assert.Equal("member-a", (string?)json[0]!["name"]);
    }

    [Fact]
    public async Task StatusEndpointCarriesTheMembershipSectionBesideThePartitions()
    {
        await using var relay = await TestSilo.StartAsync(Db, Kafka, name: "relay-status");
        await using var member = await AdoNetSilo.StartAsync(Db.ConnectionString, _clusterId, "member-http", new ReminderTicks());
        using var http = relay.Http(withToken: false);

        var status = await http.GetFromJsonAsync<JsonObject>("/status");
        Assert.Equal(TestDatabase.Partitions, status!["partitions"]!.AsArray().Count);
        var silo = status["silos"]!.AsArray().Single(s => (string?)s!["name"] == "member-http")!;
        Assert.Equal("alive", (string?)silo["status"]);
        Assert.Equal(_clusterId, (string?)silo["clusterId"]);
        Assert.True(silo["lastIAmAlive"] is not null && silo["partitions"] is JsonArray);

        // The page lists it among the silos, with its membership state, although it owns no partition.
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(relay.BaseAddress);
        await Eventually.TrueAsync(async () => await browser.EvaluateAsync(
                "(() => { const row = document.querySelector('tr[data-silo=\"member-http\"]'); return row !== null && row.dataset.status === 'alive'; })()")
                is JsonValue shown && shown.GetValue<bool>(),
            TimeSpan.FromSeconds(30), "the status page shows the member as alive");
        Assert.Empty(browser.Errors);
    }

    private async Task<string> RunStatusAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliInvocation.InvokeAsync(new RootCommand { StatusCommand.Create() }, ["status", .. args, "--db", Db.ConnectionString],
            new InvocationConfiguration { Output = output, Error = error });
        Assert.True(code == ExitCodes.Ok, error.ToString());
        return output.ToString();
    }
}
