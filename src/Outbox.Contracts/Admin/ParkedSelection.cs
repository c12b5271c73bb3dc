namespace Outbox.Contracts.Admin;

/// <summary>
/// Which parked messages of one partition an operator acts on: one message (<see cref="Id"/>), the parked
/// messages of one key (<see cref="Key"/>), or every parked message of the partition (neither).
/// </summary>
public sealed record ParkedSelection(int Partition, long? Id = null, string? Key = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the selection cannot name anything.</summary>
    public void Validate()
    {
        AdminLimits.ValidatePartition(Partition);
        if (Id is <= 0) throw new ArgumentException($"Message id must be positive, not {Id}.", nameof(Id));
        if (Key is not null) AdminLimits.ValidateKey(Key);
    }
}
