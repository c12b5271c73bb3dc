using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Outbox.EntityFrameworkCore;

/// <summary>
/// Registers the outbox in EF Core's own service provider: the context's pending messages (scoped: one per context
/// instance, reset when a pooled context is returned) and the interceptor that writes them.
/// </summary>
internal sealed class OutboxOptionsExtension : IDbContextOptionsExtension
{
    public DbContextOptionsExtensionInfo Info => new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
        services.AddScoped<PendingOutboxMessages>();
        services.AddScoped<IResettableService>(sp => sp.GetRequiredService<PendingOutboxMessages>());
        services.AddSingleton<IInterceptor, OutboxSaveChangesInterceptor>();
    }

    public void Validate(IDbContextOptions options)
    {
    }

    private sealed class ExtensionInfo(IDbContextOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "UseOutbox ";

        public override int GetServiceProviderHashCode() => 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) => other is ExtensionInfo;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo) => debugInfo["Outbox:UseOutbox"] = "1";
    }
}
