using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;

namespace Outbox.Tests.Grains;

/// <summary>How per-row publish outcomes turn into database work: remove only what Kafka acknowledged.</summary>
[Trait("Category", "Unit")]
public sealed class BatchSummaryTests
{
    private static OutboxRow Row(long id, string key) =>
        new(id, Guid.NewGuid(), "t", key, new byte[10], null, null, DateTimeOffset.UtcNow, null, null);

    [Fact]
    public void OnlyAcknowledgedRowsAreRemovedAndPermanentFailuresParked()
    {
        var batch = new[] { Row(1, "a"), Row(2, "b"), Row(3, "a"), Row(4, "c"), Row(5, "d") };
        var outcomes = new[]
        {
            new PublishOutcome(PublishStatus.Acknowledged),
            new PublishOutcome(PublishStatus.PermanentFailure, "MsgSizeTooLarge"),
            new PublishOutcome(PublishStatus.Acknowledged),
            new PublishOutcome(PublishStatus.TransientFailure, "timed out"),
            new PublishOutcome(PublishStatus.HeldBack),
        };

        var summary = BatchSummary.Of(batch, outcomes);

        Assert.Equal([1L, 3L], summary.Completion.PublishedIds);
        Assert.Equal([(2L, "MsgSizeTooLarge")], summary.Completion.Parked);
        Assert.Equal(1, summary.TransientFailures);
        Assert.Equal("timed out", summary.FirstTransientError);
        Assert.Equal(20, summary.AcknowledgedBytes);
        Assert.Equal(0, summary.AckedAfterFailure);
    }

    [Fact]
    public void AnAcknowledgementAfterAFailureOfTheSameKeyIsCounted()
    {
        var batch = new[] { Row(1, "a"), Row(2, "a"), Row(3, "b") };
        var outcomes = new[]
        {
            new PublishOutcome(PublishStatus.TransientFailure, "timed out"),
            new PublishOutcome(PublishStatus.Acknowledged),
            new PublishOutcome(PublishStatus.Acknowledged),
        };

        var summary = BatchSummary.Of(batch, outcomes);

        Assert.Equal(1, summary.AckedAfterFailure);
        Assert.Equal([2L, 3L], summary.Completion.PublishedIds);
    }
}
