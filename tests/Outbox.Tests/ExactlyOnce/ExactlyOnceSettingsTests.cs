using System.ComponentModel.DataAnnotations;
using System.Text;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Storage;
using Outbox.Grains.Relay;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>Pure checks of the exactly-once mode's settings and its progress record format.</summary>
[Trait("Category", "Unit")]
public sealed class ExactlyOnceSettingsTests
{
    [Fact]
    public void DeliveryIsAtLeastOnceUnlessExactlyOnceIsAskedFor() => Assert.Equal(DeliveryMode.AtLeastOnce, new RelayOptions().Delivery);

    [Fact]
    public void AnUndefinedDeliveryModeIsRefused()
    {
        var errors = Validate(new RelayOptions { Delivery = (DeliveryMode)7 });
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(RelayOptions.Delivery)));
    }

    [Theory]
    [InlineData("__progress", "must not start with '__'")]
    [InlineData("..", "cannot be '.' or '..'")]
    public void AProgressTopicNameKafkaWouldRefuseIsRefusedAtStartUp(string topic, string expected)
    {
        var result = new ExactlyOnceOptionsValidator().Validate(null, new ExactlyOnceOptions { ProgressTopic = topic });
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("")]
    public void ATransactionalIdPrefixOutsideKafkasCharactersIsRefused(string prefix)
    {
        var errors = Validate(new ExactlyOnceOptions { TransactionalIdPrefix = prefix });
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(ExactlyOnceOptions.TransactionalIdPrefix)));
    }

    [Fact]
    public void AProgressRecordKeepsItsEpochRowsAndEventIdsAndStoresRunsOfIdsAsRanges()
    {
        var record = new ProgressRecord(7, new long[] { 101, 102, 103, 200, 205, 206 }.Select(id => new RowRef(id, Guid.NewGuid())).ToArray());

        var encoded = record.Encode();

        Assert.StartsWith(""""{"epoch":7,"ids":[[101,103],[200,200],[205,206]],"events":"""", Encoding.UTF8.GetString(encoded), StringComparison.Ordinal);
        var decoded = ProgressRecord.Decode(encoded);
        Assert.Equal(7, decoded.Epoch);
        Assert.Equal(record.Rows, decoded.Rows);
    }

    [Fact]
    public void AProgressRecordOfAnEarlierVersionNamesItsRowsByIdAlone()
    {
        var decoded = ProgressRecord.Decode(Encoding.UTF8.GetBytes("""{"epoch":3,"ids":[[5,6]]}"""));

        Assert.Equal([new RowRef(5, null), new RowRef(6, null)], decoded.Rows);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"epoch":1}""")]
    [InlineData("""{"epoch":1,"ids":[[5,2]]}""")]
    [InlineData("""{"epoch":1,"ids":[[5,6]],"events":"AAAA"}""")]
    public void AProgressRecordInAnotherFormatIsAnErrorThatSaysSo(string value)
    {
        var error = Assert.Throws<InvalidDataException>(() => ProgressRecord.Decode(Encoding.UTF8.GetBytes(value)));
        Assert.Contains("not in the relay's format", error.Message, StringComparison.Ordinal);
    }

    private static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
