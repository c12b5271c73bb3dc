using System.Runtime.InteropServices;
using System.Reflection;
using System.Text;

namespace Outbox.Tools.Kafka;

/// <summary>
/// librdkafka's built-in Kafka-protocol mock cluster: real brokers on 127.0.0.1 TCP ports that any Kafka
/// client can use, with fault injection (brokers down/up, request errors, topic errors, latency). The
/// embedded Kafka for development, the demo and the tests; production uses a real Kafka.
/// </summary>
public sealed partial class MockKafkaCluster : IDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private bool _disposed;

    public MockKafkaCluster(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var errors = new byte[512];
        var conf = Native.ConfNew();
        // The handle only hosts the cluster; keep it from warning that it has no bootstrap.servers itself.
        Native.ConfSet(conf, "log_level", "3", errors, (UIntPtr)errors.Length);
        _handle = Native.New(0 /* RD_KAFKA_PRODUCER */, conf, errors, (UIntPtr)errors.Length);
        if (_handle == IntPtr.Zero)
            throw new InvalidOperationException("rd_kafka_new failed: " + Encoding.UTF8.GetString(errors).TrimEnd('\0'));
        _cluster = Native.MockClusterNew(_handle, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        BootstrapServers = Marshal.PtrToStringUTF8(Native.MockClusterBootstraps(_cluster))!;
        BrokerCount = brokers;
    }

    /// <summary>Comma-separated host:port list of the brokers.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1) =>
        Check(Native.MockTopicCreate(_cluster, topic, partitions, Math.Min(replicationFactor, BrokerCount)), $"create topic {topic}");

    /// <summary>Disconnects a broker (-1: all) and refuses new connections until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId = -1) => Check(Native.MockBrokerSetDown(_cluster, brokerId), "broker down");

    public void SetBrokerUp(int brokerId = -1) => Check(Native.MockBrokerSetUp(_cluster, brokerId), "broker up");

    /// <summary>Adds latency to every response of a broker.</summary>
    public void SetBrokerRtt(int brokerId, int rttMs) => Check(Native.MockBrokerSetRtt(_cluster, brokerId, rttMs), "broker rtt");

    /// <summary>The next requests of the given API (Produce = 0) fail with these Kafka error codes, in order.</summary>
    public void PushRequestErrors(short apiKey, params int[] errorCodes) =>
        Native.MockPushRequestErrorsArray(_cluster, apiKey, (UIntPtr)errorCodes.Length, errorCodes);

    /// <summary>Metadata requests for <paramref name="topic"/> answer with this Kafka error code (0 clears it).</summary>
    public void SetTopicError(string topic, int errorCode) => Native.MockTopicSetError(_cluster, topic, errorCode);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Native.MockClusterDestroy(_cluster);
        Native.Destroy(_handle);
    }

    private static void Check(int error, string what)
    {
        if (error != 0) throw new InvalidOperationException($"Mock Kafka: {what} failed with Kafka error {error}.");
    }

    /// <summary>Kafka API keys used with <see cref="PushRequestErrors"/>.</summary>
    public static class ApiKeys
    {
        public const short Produce = 0;
        public const short InitProducerId = 22;
        public const short AddPartitionsToTxn = 24;
        public const short EndTxn = 26;
    }

    /// <summary>Kafka protocol error codes useful for fault injection.</summary>
    public static class Errors
    {
        public const int NotLeaderForPartition = 6;
        public const int RequestTimedOut = 7;
        public const int MessageTooLarge = 10;
        public const int NotEnoughReplicas = 19;
        public const int CoordinatorLoadInProgress = 14;
        public const int NotCoordinator = 16;
        public const int TopicAuthorizationFailed = 29;
        public const int ConcurrentTransactions = 51;
    }

    private static partial class Native
    {
        // The mock API is not part of Confluent.Kafka's bindings, so it is bound here, by the same library names
        // and the same probing (librdkafka.redist's runtimes/<rid>/native), to the very library Confluent.Kafka
        // loads: a mock cluster and a client of another copy would share no state. Confluent's Linux loader tries
        // the GSSAPI build (librdkafka.so, which needs the libsasl2.so.3 of RHEL-like systems) before the
        // self-contained one (centos8-librdkafka.so, what Debian ends up with); musl systems get the Alpine build.
        private const string Lib = "librdkafka";
        private static readonly string[] Candidates = ["librdkafka", "centos8-librdkafka", "alpine-librdkafka"];

        static Native() => NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
        {
            if (name != Lib) return IntPtr.Zero;
            foreach (var candidate in Candidates)
            {
                // Probed on behalf of Confluent.Kafka's assembly, as its own bindings are (dlopen hands back the
                // handle it already holds when it loaded the same file first).
                if (NativeLibrary.TryLoad(candidate, typeof(Confluent.Kafka.Library).Assembly, null, out var handle)) return handle;
            }
            throw new DllNotFoundException("librdkafka (from the librdkafka.redist package) could not be loaded for the mock cluster.");
        }

        [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_new")]
        public static partial IntPtr ConfNew();

        [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int ConfSet(IntPtr conf, string name, string value, [Out] byte[] errstr, UIntPtr errstrSize);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_new")]
        public static partial IntPtr New(int type, IntPtr conf, [Out] byte[] errstr, UIntPtr errstrSize);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_destroy")]
        public static partial void Destroy(IntPtr rk);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_new")]
        public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_destroy")]
        public static partial void MockClusterDestroy(IntPtr cluster);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
        public static partial IntPtr MockClusterBootstraps(IntPtr cluster);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int MockTopicCreate(IntPtr cluster, string topic, int partitions, int replicationFactor);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_set_error", StringMarshalling = StringMarshalling.Utf8)]
        public static partial void MockTopicSetError(IntPtr cluster, string topic, int error);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_down")]
        public static partial int MockBrokerSetDown(IntPtr cluster, int brokerId);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_up")]
        public static partial int MockBrokerSetUp(IntPtr cluster, int brokerId);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
        public static partial int MockBrokerSetRtt(IntPtr cluster, int brokerId, int rttMs);

        [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
        public static partial void MockPushRequestErrorsArray(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);
    }
}
