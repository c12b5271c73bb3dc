-- Holds every partition back (the relay reads nothing from a paused partition) while the silo starts, so
-- the drain is timed from a known instant rather than from process start-up.
update outbox.partitions set paused = @paused;
