using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;
using Outbox.Grains.Publishing;

namespace Outbox.Tests.Operations;

/// <summary>Only errors no retry can fix park a key; everything else is retried.</summary>
[Trait("Category", "Unit")]
public sealed class KafkaErrorClassifierTests
{
    [Theory]
    [InlineData(ErrorCode.MsgSizeTooLarge)]
    [InlineData(ErrorCode.TopicAuthorizationFailed)]
    [InlineData(ErrorCode.InvalidRecord)]
    [InlineData(ErrorCode.TopicException)]
    [InlineData(ErrorCode.Local_UnknownTopic)]
    [InlineData(ErrorCode.InvalidTimestamp)]
    public void ErrorsNoRetryCanFixParkTheKey(ErrorCode code) => Assert.True(KafkaErrorClassifier.IsPermanent(new Error(code)));

    [Theory]
    [InlineData(ErrorCode.Local_MsgTimedOut)]
    [InlineData(ErrorCode.Local_AllBrokersDown)]
    [InlineData(ErrorCode.Local_Transport)]
    [InlineData(ErrorCode.NotEnoughReplicas)]
    [InlineData(ErrorCode.NotLeaderForPartition)]
    [InlineData(ErrorCode.RequestTimedOut)]
    [InlineData(ErrorCode.Local_QueueFull)]
    public void OutagesAreRetried(ErrorCode code) => Assert.False(KafkaErrorClassifier.IsPermanent(new Error(code)));
}
