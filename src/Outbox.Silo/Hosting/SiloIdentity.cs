namespace Outbox.Silo.Hosting;

/// <summary>This silo's name: stable per deployment slot (pod name, host name) plus a per-process suffix in status.</summary>
public sealed record SiloIdentity(string Name);
