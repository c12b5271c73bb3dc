using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using OpenTelemetry.Metrics;
using OrderService.Orders;
using Outbox.EntityFrameworkCore;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Health;
using Outbox.Grains.Hosting;
using Outbox.Grains.Security;

// An order service that publishes its events through the transactional outbox: paying an order changes it and
// enqueues its event in one database transaction, and the service's own Orleans silo hosts the relay, which
// publishes committed events to Kafka. Orders:Store picks how the handler writes: Npgsql or EntityFrameworkCore.
var builder = WebApplication.CreateBuilder(args);
var orders = builder.Configuration.GetConnectionString("Orders")
    ?? throw new InvalidOperationException("Set ConnectionStrings:Orders to the orders database (an Npgsql connection string).");

// The service's own pool (and DbContext) for its business transactions. The relay keeps pools of its own (keyed
// services), so the two never share connections or collide in the container.
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(orders));
builder.Services.AddDbContext<OrdersContext>(options => options
    .UseNpgsql(orders, npgsql => npgsql.EnableRetryOnFailure())
    .UseOutbox());

builder.UseOrleans(silo => silo
    // One silo on this machine; a real deployment uses a clustering provider (e.g. ADO.NET on PostgreSQL).
    .UseLocalhostClustering(builder.Configuration.GetValue("Orleans:SiloPort", 11111), builder.Configuration.GetValue("Orleans:GatewayPort", 30000))
    .UseInMemoryReminderService()
    // The complete relay, configured from appsettings.json (Outbox:*, Kafka:*, Relay:*) and validated at start-up.
    .AddOutboxRelay()
    // Mutual TLS on the silo and gateway ports when Cluster:Tls:Enabled (off here: one silo on loopback).
    .UseOutboxClusterTls());

// The relay's metrics (backlog gauges, publish rate, latency) for Prometheus, beside the service's own.
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(RelayMetrics.MeterName).AddPrometheusExporter());

var app = builder.Build();
await OrdersDatabase.CreateAsync(orders, CancellationToken.None);

app.MapGet("/health/live", () => Results.Ok());
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(OutboxRelayHealthChecks.ReadyTag) });
app.MapPrometheusScrapingEndpoint();
if (app.Configuration["Orders:Store"] == "EntityFrameworkCore") app.MapEntityFrameworkOrders();
else app.MapNpgsqlOrders();

app.Run();
