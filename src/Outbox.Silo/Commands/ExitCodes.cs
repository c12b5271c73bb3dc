namespace Outbox.Silo.Commands;

/// <summary>Exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command failed (e.g. the demo's checks did not hold).</summary>
    public const int Failed = 1;
    /// <summary>Bad arguments or configuration.</summary>
    public const int Usage = 2;
    /// <summary>The database could not be reached.</summary>
    public const int DatabaseUnavailable = 3;
    /// <summary>The named partition, key or message does not exist.</summary>
    public const int NotFound = 4;
}
