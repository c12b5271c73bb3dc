namespace Outbox.Silo.Hosting;

/// <summary>The HTTP admin surface. Section "Admin".</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Bearer token for mutating endpoints; when empty they are disabled.</summary>
    public string? Token { get; set; }
}
