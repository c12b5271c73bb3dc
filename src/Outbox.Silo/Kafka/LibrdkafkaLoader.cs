using System.Reflection;
using System.Runtime.InteropServices;

namespace Outbox.Silo.Kafka;

/// <summary>
/// Points Confluent.Kafka at the librdkafka that scripts/setup.sh built, when the librdkafka.redist package
/// (which normally ships it) could not be restored. Where the redist package is present and no path is
/// configured, this does nothing and Confluent.Kafka loads its own copy.
/// </summary>
public static class LibrdkafkaLoader
{
    /// <summary>Environment variable naming the librdkafka shared object to use.</summary>
    public const string PathVariable = "OUTBOX_LIBRDKAFKA";

    private static readonly Lock Gate = new();
    private static bool _loaded;

    /// <summary>The librdkafka path in use, or null when Confluent.Kafka's bundled copy is used.</summary>
    public static string? LoadedPath { get; private set; }

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            var path = ResolvePath();
            if (path is not null)
            {
                // Confluent.Kafka's Linux loader dlopen()s "libdl", which exists only as libdl.so.2 on Debian 12.
                // Its bindings DllImport "librdkafka", which must resolve to this file during Load already.
                LoadedPath = path;
                NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
                Confluent.Kafka.Library.Load(path);
            }
            _loaded = true;
        }
    }

    /// <summary>The mock cluster is called directly (P/Invoke) and must use the very same library.</summary>
    internal static IntPtr LoadForMock()
    {
        EnsureLoaded();
        return NativeLibrary.Load(LoadedPath ?? "librdkafka");
    }

    private static string? ResolvePath()
    {
        var configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"{PathVariable} names '{configured}', which does not exist. Run scripts/setup.sh.");
        }
        var cache = Environment.GetEnvironmentVariable("OUTBOX_CACHE_DIR")
            ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "outbox-relay");
        var built = Path.Combine(cache, "librdkafka-2.15.1", "lib", "librdkafka.so.1");
        return File.Exists(built) ? built : null;
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        "libdl" => NativeLibrary.Load("libdl.so.2"),
        "librdkafka" when LoadedPath is not null => NativeLibrary.Load(LoadedPath),
        _ => IntPtr.Zero,
    };
}
