using System.Text.Json;
using Outbox.Contracts;

namespace OrderService.Orders;

/// <summary>The service's events.</summary>
internal static class OrderEvents
{
    public static OutboxMessage Paid(string id) =>
        OutboxMessage.Json("orders", key: id, json: JsonSerializer.Serialize(new { id, status = "paid" })) with { EventType = "order-paid" };
}
