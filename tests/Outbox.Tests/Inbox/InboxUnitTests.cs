using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Publishing;
using Outbox.Inbox;
using Outbox.Inbox.Consuming;
using Outbox.Inbox.Diagnostics;

namespace Outbox.Tests.Inbox;

/// <summary>The inbox's pure parts: the header contract with the relay, reading either header form, options, log ids.</summary>
[Trait("Category", "Unit")]
public sealed partial class InboxUnitTests
{
    [Fact]
    public void TheInboxReadsTheHeaderNamesTheRelayWrites()
    {
        Assert.Equal(OutboxHeaders.EventId, EventHeaders.EventId);
        Assert.Equal(OutboxHeaders.EventType, EventHeaders.EventType);
        Assert.Equal(OutboxHeaders.Partition, EventHeaders.Partition);
        Assert.Equal(OutboxHeaders.Sequence, EventHeaders.Sequence);
        Assert.Equal(OutboxHeaders.CreatedAt, EventHeaders.CreatedAt);
        Assert.Equal(OutboxHeaders.Traceparent, EventHeaders.Traceparent);
        Assert.Equal(OutboxHeaders.Tracestate, EventHeaders.Tracestate);
    }

    [Fact]
    public void AnEventIsReadFromTheRelaysHeaders()
    {
        var id = Guid.NewGuid();
        var e = EventHeaders.Read(Result(("outbox-event-id", id.ToString()), ("outbox-sequence", "42"), ("outbox-partition", "7"),
            ("outbox-event-type", "order-paid"), ("outbox-created-at", "1700000000000")));
        Assert.Equal((id, 42L, 7, "order-paid"), (e.EventId, e.Sequence, e.OutboxPartition, e.EventType));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), e.CreatedAt);
        Assert.Equal(("k", "orders", 3, 11L), (e.Key, e.Topic, e.Partition, e.Offset));
    }

    [Fact]
    public void AnEventIsReadFromCloudEventsBinaryModeHeadersAndANonGuidIdIsStableAndScopedByItsSource()
    {
        var first = EventHeaders.Read(Result(("ce_id", "A-1"), ("ce_source", "/billing"), ("ce_type", "invoice.paid"), ("ce_time", "2026-01-02T03:04:05Z")));
        var copy = EventHeaders.Read(Result(("ce_id", "A-1"), ("ce_source", "/billing")));
        var otherSource = EventHeaders.Read(Result(("ce_id", "A-1"), ("ce_source", "/shipping")));
        Assert.Equal(first.EventId, copy.EventId);
        Assert.NotEqual(first.EventId, otherSource.EventId);
        Assert.Equal("invoice.paid", first.EventType);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), first.CreatedAt);
        var id = Guid.NewGuid();
        Assert.Equal(id, EventHeaders.Read(Result(("ce_id", id.ToString()), ("ce_source", "/outbox"))).EventId);
    }

    [Fact]
    public void AMessageWithoutAnIdIsRecognisedByItsKafkaCoordinatesWhenRedelivered()
    {
        Assert.Equal(EventHeaders.Read(Result()).EventId, EventHeaders.Read(Result()).EventId);
        Assert.Null(EventHeaders.Read(Result(("outbox-sequence", "not-a-number"))).Sequence);
    }

    [Fact]
    public void BadOptionsAreRefusedAtStartUpNamingTheKey()
    {
        var options = new InboxOptions { MaxBatchSize = 0, PoisonEvents = PoisonEventAction.DeadLetter, ConnectionString = "Host=x;Nonsense=1" };
        options.Kafka["enable.auto.commit"] = "true";
        var failures = new InboxOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Inbox:ConnectionString is not a valid", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:BootstrapServers is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:GroupId is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:Topics must list", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:MaxBatchSize must be between 1 and 10000, not 0", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:DeadLetterTopic is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inbox:Kafka:enable.auto.commit is set by the inbox", StringComparison.Ordinal));
        var good = new InboxOptions { ConnectionString = "Host=db", BootstrapServers = "k:9092", GroupId = "g" };
        good.Topics.Add("orders");
        Assert.True(new InboxOptionsValidator().Validate(null, good).Succeeded);
    }

    [Fact]
    public void EveryInboxLogIdIsInItsCatalogueInItsOwnRangeAndDocumented()
    {
        var table = typeof(InboxEventId).GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => (int)f.GetRawConstantValue()!, f => f.Name);
        var logged = typeof(InboxEventId).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>()).OfType<LoggerMessageAttribute>().Select(a => a.EventId).ToHashSet();
        Assert.DoesNotContain(logged, id => !table.ContainsKey(id));
        Assert.DoesNotContain(table.Keys, id => !logged.Contains(id));
        Assert.All(table.Keys, id => Assert.InRange(id, 8000, 8999));
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "inbox.md"));
        var documented = DocumentedRow().Matches(docs).ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);
        Assert.Equal(table.OrderBy(e => e.Key), documented.OrderBy(e => e.Key));
    }

    private static ConsumeResult<byte[], byte[]> Result(params (string Name, string Value)[] headers)
    {
        var kafkaHeaders = new Headers();
        foreach (var (name, value) in headers) kafkaHeaders.Add(name, Encoding.UTF8.GetBytes(value));
        return new ConsumeResult<byte[], byte[]>
        {
            Topic = "orders",
            Partition = 3,
            Offset = 11,
            Message = new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = "{}"u8.ToArray(), Headers = kafkaHeaders },
        };
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Outbox.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Outbox.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\| (\d+) \| `(\w+)` \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedRow();
}
