using System.Collections.Concurrent;
using System.Reflection;

namespace Outbox.Contracts;

/// <summary>Reads SQL kept as embedded <c>.sql</c> files, so a DBA can read every statement the product runs.</summary>
public static class SqlResource
{
    private static readonly ConcurrentDictionary<(Assembly, string), string> Cache = new();

    /// <summary>The text of <paramref name="name"/> (e.g. "Sql.read_batch.sql") embedded in <paramref name="assembly"/>.</summary>
    public static string Read(Assembly assembly, string name) =>
        Cache.GetOrAdd((assembly, name), static key =>
        {
            var (asm, file) = key;
            var resource = $"{asm.GetName().Name}.{file}";
            using var stream = asm.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded SQL '{resource}' is missing.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });
}
