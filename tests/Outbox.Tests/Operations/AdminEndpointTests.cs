using System.Net;
using System.Text.Json;
using System.Text;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Operations;

/// <summary>The silo's admin endpoints: they work with the token, refuse without it, and refuse hostile input.</summary>
public sealed class AdminEndpointTests : RelayTestBase
{
    private static readonly (HttpMethod Method, string Path, string? Body)[] Endpoints =
    [
        (HttpMethod.Post, "/admin/partitions/1/pause", null),
        (HttpMethod.Post, "/admin/partitions/1/resume", null),
        (HttpMethod.Get, "/admin/parked", null),
        (HttpMethod.Post, "/admin/partitions/1/parked/retry", "{}"),
        (HttpMethod.Post, "/admin/partitions/1/parked/discard", """{"reason":"x"}"""),
        (HttpMethod.Post, "/admin/replay", """{"fromId":1,"toId":2}"""),
        (HttpMethod.Post, "/admin/partitions/1/drain", null),
    ];

    [Fact]
    public async Task RequestsWithoutTheTokenOrWithAWrongOneAreRefused()
    {
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var anonymous = silo.Http(withToken: false);
        using var wrong = silo.Http(withToken: false);
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", TestSilo.AdminToken + "x");
        using var basic = silo.Http(withToken: false);
        basic.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + TestSilo.AdminToken)));

        foreach (var client in new[] { anonymous, wrong, basic })
        {
            foreach (var (method, path, body) in Endpoints)
            {
                using var response = await client.SendAsync(Request(method, path, body));
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {response.StatusCode}");
            }
            // Hostile input without a token is refused for the token, before it is even parsed.
            using var hostile = await client.SendAsync(Request(HttpMethod.Post, "/admin/partitions/x';drop table outbox.messages;--/pause", "not json"));
            Assert.Equal(HttpStatusCode.Unauthorized, hostile.StatusCode);
        }
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.partitions where paused"));
    }

    [Fact]
    public async Task AdminEndpointsAreDisabledWhenNoTokenIsConfigured()
    {
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string> { ["Admin:Token"] = "" });
        using var client = silo.Http();
        foreach (var (method, path, body) in Endpoints)
        {
            using var response = await client.SendAsync(Request(method, path, body));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using var status = await client.GetAsync(new Uri("/status", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, status.StatusCode); // read-only status stays open
    }

    [Fact]
    public async Task HostileInputIsRefusedAndReachesSqlOnlyAsAParameter()
    {
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var client = silo.Http();
        const string injection = "x'; drop table outbox.messages; --";
        var encoded = Uri.EscapeDataString(injection);

        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, $"/admin/partitions/{encoded}/pause");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/99999999999999999999/pause");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/-1/resume");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/4096/pause");
        await Expect(client, HttpStatusCode.NotFound, HttpMethod.Post, "/admin/partitions/16/pause");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Get, "/admin/parked?limit=0");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Get, "/admin/parked?limit=99999999999");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Get, $"/admin/parked?partition={encoded}");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Get, $"/admin/parked?key={new string('k', 1025)}");
        var listed = await Expect(client, HttpStatusCode.OK, HttpMethod.Get, $"/admin/parked?key={encoded}");
        Assert.Equal("[]", listed);

        await Expect(client, HttpStatusCode.NotFound, HttpMethod.Post, "/admin/partitions/1/parked/retry", JsonSerializer.Serialize(new { key = injection }));
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/retry", """{"id":1e40}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/retry", """{"id":"1 or 1=1"}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/retry", """{"id":-3}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/retry", "{not json");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/discard", """{"key":"a"}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/discard",
            JsonSerializer.Serialize(new { reason = new string('r', 5000) }));
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/partitions/1/parked/discard",
            JsonSerializer.Serialize(new { reason = "line\r\nforged: audit" }));
        await Expect(client, HttpStatusCode.RequestEntityTooLarge, HttpMethod.Post, "/admin/partitions/1/parked/discard",
            JsonSerializer.Serialize(new { reason = "x", key = new string('k', 100_000) }));
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/replay", """{"fromId":1,"toId":9223372036854775807}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/replay", """{"fromId":-1,"toId":5}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/replay", """{"fromId":99999999999999999999999,"toId":5}""");
        await Expect(client, HttpStatusCode.BadRequest, HttpMethod.Post, "/admin/replay", """{"fromId":1,"toId":5,"partition":"0 or 1=1"}""");
        using (var plain = new HttpRequestMessage(HttpMethod.Post, "/admin/replay") { Content = new StringContent("""{"fromId":1,"toId":2}""") })
        {
            using var response = await client.SendAsync(plain);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode); // text/plain, not JSON
        }

        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages"));
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.partitions where paused"));
        Assert.Equal(TestDatabase.Partitions, await Db.ScalarAsync("select count(*) from outbox.partitions"));
    }

    [Fact]
    public async Task PauseHoldsAPartitionsMessagesAndResumeReleasesThemOverHttp()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var client = silo.Http();
        var partition = OutboxPartitioner.PartitionOf("held", TestDatabase.Partitions);
        var other = Enumerable.Range(0, 100).Select(i => $"free-{i}").First(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) != partition);

        var paused = await Expect(client, HttpStatusCode.OK, HttpMethod.Post, $"/admin/partitions/{partition}/pause");
        Assert.True(JsonDocument.Parse(paused).RootElement.GetProperty("paused").GetBoolean());
        var held = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "held", 1), Enqueue.Event(topic, "held", 2));
        var free = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, other, 1));
        Assert.Equal(0, await verifier.WaitForAsync(free, TimeSpan.FromSeconds(20)));
        await Task.Delay(1500); // past a sweep: a paused partition publishes nothing
        Assert.DoesNotContain(held, verifier.HasSeen);

        await Expect(client, HttpStatusCode.OK, HttpMethod.Post, $"/admin/partitions/{partition}/resume");
        Assert.Equal(0, await verifier.WaitForAsync(held, TimeSpan.FromSeconds(20)));
        Assert.Equal(0, verifier.OutOfOrder);
    }

    [Fact]
    public async Task ParkedMessagesAreListedRetriedAndDiscardedOverHttp()
    {
        await Enqueue.CommitAsync(Db, Enqueue.Event("orders", "p-1", 1), Enqueue.Event("orders", "p-2", 1));
        await using (var park = Db.DataSource.CreateCommand("update outbox.messages set parked_at = now(), park_reason = 'InvalidRecord: test', attempts = 2"))
            await park.ExecuteNonQueryAsync();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var client = silo.Http();
        var p1 = OutboxPartitioner.PartitionOf("p-1", TestDatabase.Partitions);
        var p2 = OutboxPartitioner.PartitionOf("p-2", TestDatabase.Partitions);

        var listed = JsonDocument.Parse(await Expect(client, HttpStatusCode.OK, HttpMethod.Get, "/admin/parked")).RootElement;
        Assert.Equal(2, listed.GetArrayLength());
        Assert.Equal(2, listed[0].GetProperty("attempts").GetInt32());

        var discarded = await Expect(client, HttpStatusCode.OK, HttpMethod.Post, $"/admin/partitions/{p2}/parked/discard",
            JsonSerializer.Serialize(new { key = "p-2", reason = "duplicate of order 7", @operator = "carol" }));
        Assert.Equal(1, JsonDocument.Parse(discarded).RootElement.GetProperty("discarded").GetInt32());
        Assert.Equal(1, await Db.ScalarAsync("select count(*) from outbox.discarded where discarded_by = 'carol' and attempts = 2"));

        var retried = await Expect(client, HttpStatusCode.OK, HttpMethod.Post, $"/admin/partitions/{p1}/parked/retry", "{}");
        Assert.Equal(1, JsonDocument.Parse(retried).RootElement.GetProperty("retried").GetInt32());
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null"));
    }

    [Fact]
    public void TheSiloListensOnLoopbackUnlessConfiguredOtherwise()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.json")));
        var urls = settings.RootElement.GetProperty("Urls").GetString()!.Split(';');
        Assert.All(urls, url => Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal));
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? body) =>
        new(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };

    private static async Task<string> Expect(HttpClient client, HttpStatusCode expected, HttpMethod method, string path, string? body = null)
    {
        using var response = await client.SendAsync(Request(method, path, body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path} {body?[..Math.Min(body.Length, 80)]}: expected {expected}, got {response.StatusCode} {text}");
        return text;
    }
}
