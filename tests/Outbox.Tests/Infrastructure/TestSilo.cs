using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Outbox.Silo.Hosting;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Infrastructure;

/// <summary>A silo hosted inside the test process on a free loopback port (real HTTP, real PostgreSQL and Kafka).</summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSilo(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Configuration every test silo shares; <paramref name="overrides"/> win.</summary>
    public static Dictionary<string, string> Configuration(TestDatabase database, TestKafka kafka, string name = "test-silo",
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        var configuration = new Dictionary<string, string>
        {
            ["Outbox:ConnectionString"] = database.ConnectionString,
            ["Outbox:PartitionCount"] = TestDatabase.Partitions.ToString(CultureInfo.InvariantCulture),
            ["Outbox:MaxPoolSize"] = "4",
            ["Kafka:BootstrapServers"] = kafka.BootstrapServers,
            ["Relay:BatchSize"] = "100",
            ["Relay:SweepInterval"] = "00:00:01",
            ["Relay:RetryDelay"] = "00:00:00.100",
            ["Relay:MaxRetryDelay"] = "00:00:01",
            ["Cluster:SiloName"] = name,
            // Every silo of the test process needs ports of its own for silo-to-silo and gateway traffic.
            ["Cluster:SiloPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = LocalEnvironment.FreePort().ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Orleans"] = "Error",
            ["Admin:Token"] = AdminToken,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) configuration[key] = value;
        return configuration;
    }

    public const string AdminToken = "test-admin-token";

    public static async Task<TestSilo> StartAsync(TestDatabase database, TestKafka kafka, string name = "test-silo",
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        var port = LocalEnvironment.FreePort();
        var configuration = Configuration(database, kafka, name, overrides);
        configuration["Urls"] = $"http://127.0.0.1:{port}";
        var app = SiloHost.Build([], configuration!);
        await app.StartAsync();
        return new TestSilo(app, new Uri($"http://127.0.0.1:{port}"));
    }

    public HttpClient Http(bool withToken = true)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (withToken) client.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
