using Confluent.Kafka;

namespace Outbox.Grains.Publishing;

/// <summary>Sorts Kafka errors into "retry later" and "will never succeed" (which parks the key).</summary>
internal static class KafkaErrorClassifier
{
    public static bool IsPermanent(Error error) => error.Code switch
    {
        ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge => true,
        ErrorCode.InvalidMsg or ErrorCode.InvalidRecord or ErrorCode.InvalidMsgSize => true,
        ErrorCode.TopicException or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart => true,
        ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed => true,
        ErrorCode.PolicyViolation or ErrorCode.Local_InvalidArg => true,
        // A topic with message.timestamp.difference.max.ms refuses a record whose CreateTime (the row's created_at)
        // is too old, e.g. one retried long after it was parked: no retry changes that.
        ErrorCode.InvalidTimestamp or ErrorCode.UnsupportedForMessageFormat => true,
        _ => false,
    };
}
