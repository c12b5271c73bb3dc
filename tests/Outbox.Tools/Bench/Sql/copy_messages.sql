copy outbox.messages (partition, event_id, topic, key, payload, headers, event_type, created_at) from stdin (format binary)
-- The backlog preload: binary COPY of ready-made outbox rows (the partition computed by the loader with
-- OutboxPartitioner, as the enqueue API would), far faster than a million enqueue calls. (Npgsql wants the
-- COPY keyword first, so this comment follows the statement.)
