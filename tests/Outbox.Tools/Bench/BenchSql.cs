using Outbox.Contracts;

namespace Outbox.Tools.Bench;

/// <summary>The benchmark's own statements (embedded Bench/Sql/*.sql).</summary>
internal static class BenchSql
{
    public static string CopyMessages => Read("copy_messages.sql");
    public static string ResetMessages => Read("reset_messages.sql");
    public static string VacuumMessages => Read("vacuum_messages.sql");
    public static string PauseAll => Read("pause_all.sql");
    public static string WakeAll => Read("wake_all.sql");
    public static string CountMessages => Read("count_messages.sql");
    public static string NaiveSchema => Read("naive_schema.sql");
    public static string NaiveLoad => Read("naive_load.sql");
    public static string NaiveSelect => Read("naive_select.sql");
    public static string NaiveMarkSent => Read("naive_mark_sent.sql");
    public static string WritePlainSchema => Read("write_plain_schema.sql");
    public static string WritePlain => Read("write_plain.sql");
    public static string WriteEnqueue => Read("write_enqueue.sql");
    public static string WriteBusiness => Read("write_business.sql");
    public static string DatabaseActiveMs => Read("database_active_ms.sql");
    public static string HoldInserted => Read("hold_inserted.sql");
    public static string HoldRead => Read("hold_read.sql");
    public static string RelayBackends => Read("relay_backends.sql");
    public static string PartitionOwnership => Read("partition_ownership.sql");
    public static string PollerSelect => Read("poller_select.sql");
    public static string PollerDelete => Read("poller_delete.sql");
    public static string OutboxLag => Read("outbox_lag.sql");

    private static string Read(string file) => SqlResource.Read(typeof(BenchSql).Assembly, "Bench.Sql." + file);
}
