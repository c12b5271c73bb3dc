using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Outbox.Grains.Publishing;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace Outbox.Tests.Foundation;

/// <summary>
/// A fatal error of the shared Kafka producer (injected with librdkafka's rd_kafka_test_fatal_error, as an
/// idempotence failure on a real broker would raise it) is recovered: the relay publishes again on a new producer.
/// </summary>
public sealed class FatalProducerRecoveryTests : RelayTestBase
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int TestFatalError(IntPtr rk, int err, [MarshalAs(UnmanagedType.LPUTF8Str)] string reason);

    [Fact]
    public async Task AFatalProducerErrorIsRecoveredAndPublishingResumes()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        var before = await Preload.EventsAsync(Db, topic, keys: 10, versionsPerKey: 2);
        Assert.True(await verifier.WaitForAsync(before, TimeSpan.FromSeconds(20)) == 0, "published before the fatal error");

        var producer = silo.Get<RelayProducer>();
        var failed = producer.Current;
        Assert.Equal((int)ErrorCode.NoError, InjectFatalError(failed.Handle));

        var after = await Preload.EventsAsync(Db, topic, keys: 10, versionsPerKey: 2, keyPrefix: "after");
        var missing = await verifier.WaitForAsync(after, TimeSpan.FromSeconds(30));
        Assert.True(missing == 0, $"{missing} events written after the fatal producer error were never published");
        Assert.NotSame(failed, producer.Current);
        Assert.Equal(0, verifier.OutOfOrder);
        using var http = silo.Http(withToken: false);
        Assert.True((await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, "ready again on the new producer");
    }

    /// <summary>rd_kafka_test_fatal_error on the producer's own rd_kafka_t (Confluent.Kafka keeps it in Handle.LibrdkafkaHandle).</summary>
    private static int InjectFatalError(Handle handle)
    {
        var property = typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new InvalidOperationException("Confluent.Kafka's Handle no longer has LibrdkafkaHandle.");
        var rk = ((SafeHandle)property.GetValue(handle)!).DangerousGetHandle();
        // The library Confluent.Kafka itself loaded (librdkafka.redist's runtimes/<rid>/native), probed as it probes.
        var library = new[] { "librdkafka", "centos8-librdkafka", "alpine-librdkafka" }
            .Select(name => NativeLibrary.TryLoad(name, typeof(Library).Assembly, null, out var handle) ? handle : IntPtr.Zero)
            .First(handle => handle != IntPtr.Zero);
        var inject = Marshal.GetDelegateForFunctionPointer<TestFatalError>(NativeLibrary.GetExport(library, "rd_kafka_test_fatal_error"));
        return inject(rk, (int)ErrorCode.OutOfOrderSequenceNumber, "injected by a test");
    }
}
