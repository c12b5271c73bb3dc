using Microsoft.Extensions.DependencyInjection;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Resolves the consumer's handler in a DI scope of its own per transaction, so a handler may depend on scoped
/// services (a DbContext, a unit of work) and gets fresh ones for each attempt.
/// </summary>
internal sealed class HandlerScopes(IServiceScopeFactory scopes, Type handlerType)
{
    public HandlerScope Begin()
    {
        var scope = scopes.CreateAsyncScope();
        return new HandlerScope(scope, (IInboxHandler)scope.ServiceProvider.GetRequiredService(handlerType));
    }
}

/// <summary>The handler of one transaction and the DI scope it lives in.</summary>
internal sealed class HandlerScope(AsyncServiceScope scope, IInboxHandler handler) : IAsyncDisposable
{
    public IInboxHandler Handler { get; } = handler;

    public ValueTask DisposeAsync() => scope.DisposeAsync();
}
