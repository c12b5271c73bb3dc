-- Parks one event (claimed in the same transaction) with the reason and, for a failed one, the handler's error.
insert into inbox.parked (consumer_group, event_id, topic, kafka_partition, kafka_offset, key, sequence, outbox_partition,
                          event_type, header_names, header_values, payload, reason, error, attempts)
values (@group, @event_id, @topic, @kafka_partition, @kafka_offset, @key, @sequence, @outbox_partition,
        @event_type, @header_names, @header_values, @payload, @reason, @error, @attempts);
